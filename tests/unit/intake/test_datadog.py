"""Datadog webhook integration: the documented default body and its common extensions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from firstline.domain.alert import AlertStatus
from firstline.intake.datadog import parse_webhook
from firstline.intake.errors import AlertParseError

TRIGGERED_AT_MS = "1772633220000"  # 2026-03-04T14:07:00Z, as $DATE renders it


def _default(transition: str = "Triggered", **overrides: Any) -> dict[str, Any]:
    """The integration's default template, rendered: every value is a string."""
    payload: dict[str, Any] = {
        "body": "%%%\nsystem.cpu.user over host:web-3 was > 90 on average during the last 5m.\n%%%",
        "last_updated": TRIGGERED_AT_MS,
        "event_type": "metric_alert_monitor",
        "title": f"[{transition} on {{host:web-3}}] CPU saturated on web hosts",
        "date": TRIGGERED_AT_MS,
        "org": {"id": "412093", "name": "Acme Shop"},
        "id": "7441938263519204611",
    }
    payload.update(overrides)
    return payload


def _extended(transition: str = "Triggered", **overrides: Any) -> dict[str, Any]:
    """The default plus the variables people add most (alert id, transition, tags...)."""
    payload = _default(
        transition,
        alert_id="98231744",
        alert_title=f"[{transition} on {{host:web-3}}] CPU saturated on web hosts",
        alert_transition=transition,
        alert_status="system.cpu.user over host:web-3 was > 90 on average during the last 5m.",
        alert_type="success" if transition == "Recovered" else "error",
        alert_priority="P2",
        alert_scope="host:web-3",
        alert_metric="system.cpu.user",
        priority="normal",
        tags="monitor, env:prod, service:storefront, team:web, host:web-3",
        hostname="web-3",
        url="https://app.datadoghq.com/monitors/98231744",
    )
    payload.update(overrides)
    return payload


def test_default_template_is_enough() -> None:
    payload = _default()
    [alert] = parse_webhook(payload)
    assert alert.source == "datadog"
    assert alert.name == "CPU saturated on web hosts", "the transition prefix is not the name"
    assert alert.status is AlertStatus.FIRING
    assert alert.starts_at == datetime(2026, 3, 4, 14, 7, tzinfo=UTC)
    assert alert.annotations["description"].startswith("%%%")
    assert alert.annotations["datadog_org"] == "Acme Shop"
    assert alert.annotations["event_id"] == "7441938263519204611"
    assert alert.raw == payload


def test_extended_template_gives_labels_and_links() -> None:
    [alert] = parse_webhook(_extended())
    assert alert.labels == {
        "alertname": "CPU saturated on web hosts",
        "env": "prod",
        "service": "storefront",
        "team": "web",
        "host": "web-3",
        "datadog_monitor_id": "98231744",
        "severity": "P2",
        "metric": "system.cpu.user",
    }
    assert alert.service == "storefront"
    assert alert.generator_url == "https://app.datadoghq.com/monitors/98231744"
    assert (
        alert.annotations["tags"] == "monitor, env:prod, service:storefront, team:web, host:web-3"
    )
    assert alert.annotations["summary"].startswith("system.cpu.user over host:web-3")


@pytest.mark.parametrize(
    ("transition", "expected"),
    [
        ("Triggered", AlertStatus.FIRING),
        ("Re-Triggered", AlertStatus.FIRING),
        ("Renotify", AlertStatus.FIRING),
        ("Warn", AlertStatus.FIRING),
        ("No Data", AlertStatus.FIRING),
        ("Recovered", AlertStatus.RESOLVED),
    ],
)
def test_transitions(transition: str, expected: AlertStatus) -> None:
    assert parse_webhook(_extended(transition))[0].status is expected
    # Without $ALERT_TRANSITION the title's bracket says the same.
    assert parse_webhook(_default(transition))[0].status is expected


def test_alert_type_is_the_last_resort() -> None:
    plain = _default(title="CPU saturated on web hosts")
    assert parse_webhook(plain)[0].status is AlertStatus.FIRING
    assert parse_webhook({**plain, "alert_type": "success"})[0].status is AlertStatus.RESOLVED


def test_recovery_ends_the_same_alert() -> None:
    [fired] = parse_webhook(_extended())
    recovered_at = "1772634120000"  # 15 minutes later
    [recovered] = parse_webhook(
        _extended("Recovered", date=recovered_at, last_updated=recovered_at)
    )
    assert recovered.status is AlertStatus.RESOLVED
    assert recovered.ends_at == datetime(2026, 3, 4, 14, 22, tzinfo=UTC)
    assert recovered.fingerprint == fired.fingerprint
    assert recovered.name == fired.name


def test_fingerprint_is_monitor_and_scope() -> None:
    base = parse_webhook(_extended())[0].fingerprint
    # Scope order and spacing do not matter; the event id and the text do not either.
    same = _extended(alert_scope="role:web ,host:web-3", id="1", body="other text")
    also = _extended(alert_scope="host:web-3, role:web")
    assert parse_webhook(same)[0].fingerprint == parse_webhook(also)[0].fingerprint
    assert parse_webhook(_extended(alert_scope="host:web-4"))[0].fingerprint != base
    assert parse_webhook(_extended(alert_id="1"))[0].fingerprint != base


def test_default_template_falls_back_to_the_label_hash() -> None:
    fired = parse_webhook(_default())[0]
    recovered = parse_webhook(_default("Recovered", id="7441938263519204999"))[0]
    assert fired.fingerprint == recovered.fingerprint


def test_unquoted_numbers_and_tag_lists() -> None:
    payload = _extended(
        alert_id=98231744, date=1772633220, id=7441938263519204611, tags=["env:prod", "web"]
    )
    [alert] = parse_webhook(payload)
    assert alert.labels["datadog_monitor_id"] == "98231744"
    assert alert.labels["env"] == "prod"
    assert alert.starts_at == datetime(2026, 3, 4, 14, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([_default()], r"must be a JSON object, not an array"),
        ("[Triggered] x", r"not a string"),
        (_default(title=""), r"^title: "),
        (_default(title="[Triggered]"), r"^title: "),
        (_default(title=5), r"title: Input should be a valid string"),
        (_default(date=None, last_updated=None), r"^date: "),
        (_default(date="tomorrow"), r"^date: 'tomorrow' is not"),
        (_default(org="Acme"), r"org: "),
        (_extended(tags={"env": "prod"}), r"tags"),
        (_extended(tags=",".join(f"k{i}:v" for i in range(200))), r"labels, more than the 128"),
    ],
)
def test_bad_payloads_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(AlertParseError, match=message):
        parse_webhook(payload)
