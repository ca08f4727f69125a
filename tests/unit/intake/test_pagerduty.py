"""PagerDuty v3 webhooks: incident events as alerts, and the X-PagerDuty-Signature check."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from firstline.domain.alert import AlertStatus
from firstline.intake.errors import AlertParseError
from firstline.intake.pagerduty import parse_webhook, verify_pagerduty_signature


def _ref(kind: str, ident: str, summary: str) -> dict[str, str]:
    return {
        "id": ident,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"https://api.pagerduty.com/{kind}s/{ident}",
        "html_url": f"https://acme.pagerduty.com/{kind}s/{ident}",
    }


def _event(event_type: str = "incident.triggered", **incident: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "Q2KXVN7TBZ4A1C",
        "type": "incident",
        "self": "https://api.pagerduty.com/incidents/Q2KXVN7TBZ4A1C",
        "html_url": "https://acme.pagerduty.com/incidents/Q2KXVN7TBZ4A1C",
        "number": 4182,
        "status": "triggered",
        "incident_key": "checkout-db-connections",
        "created_at": "2026-03-04T14:07:00Z",
        "title": "Checkout DB connection pool exhausted",
        "service": _ref("service", "PSVC9F2", "checkout"),
        "assignees": [_ref("user", "PUSR01", "Ana Ortiz")],
        "escalation_policy": _ref("escalation_policy", "PEP77", "Payments on-call"),
        "teams": [_ref("team", "PTM01", "Payments")],
        "priority": _ref("priority", "PPRI1", "P1"),
        "urgency": "high",
        "conference_bridge": None,
        "resolve_reason": None,
    }
    data.update(incident)
    return {
        "event": {
            "id": "01DQ8XB0R4M1SBWK3C2T6ZVH9E",
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": "2026-03-04T14:07:02.518Z",
            "agent": _ref("service", "PSVC9F2", "checkout"),
            "client": {"name": "Prometheus"},
            "data": data,
        }
    }


def test_triggered_incident_is_normalised() -> None:
    payload = _event()
    [alert] = parse_webhook(payload)
    assert alert.source == "pagerduty"
    assert alert.name == "Checkout DB connection pool exhausted"
    assert alert.status is AlertStatus.FIRING
    assert alert.labels == {
        "alertname": "Checkout DB connection pool exhausted",
        "service": "checkout",
        "pagerduty_service_id": "PSVC9F2",
        "urgency": "high",
        "severity": "P1",
        "team": "Payments",
        "escalation_policy": "Payments on-call",
    }
    assert alert.service == "checkout"
    assert alert.annotations["incident_number"] == "4182"
    assert alert.annotations["assignees"] == "Ana Ortiz"
    assert alert.starts_at == datetime(2026, 3, 4, 14, 7, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.generator_url == "https://acme.pagerduty.com/incidents/Q2KXVN7TBZ4A1C"
    assert alert.raw == payload


def test_urgency_stands_in_for_severity_without_priorities() -> None:
    [alert] = parse_webhook(_event(priority=None, urgency="low"))
    assert alert.labels["severity"] == "low"


@pytest.mark.parametrize(
    ("event_type", "status", "expected"),
    [
        ("incident.triggered", "triggered", AlertStatus.FIRING),
        ("incident.acknowledged", "acknowledged", AlertStatus.FIRING),
        ("incident.escalated", "triggered", AlertStatus.FIRING),
        ("incident.reopened", "triggered", AlertStatus.FIRING),
        ("incident.priority_updated", "acknowledged", AlertStatus.FIRING),
        ("incident.resolved", "resolved", AlertStatus.RESOLVED),
        ("incident.resolved", None, AlertStatus.RESOLVED),
    ],
)
def test_event_types_map_to_status(
    event_type: str, status: str | None, expected: AlertStatus
) -> None:
    [alert] = parse_webhook(_event(event_type, status=status))
    assert alert.status is expected
    if expected is AlertStatus.RESOLVED:
        assert alert.ends_at == datetime(2026, 3, 4, 14, 7, 2, 518000, tzinfo=UTC)


def test_every_event_of_one_incident_shares_a_fingerprint() -> None:
    prints = {
        parse_webhook(_event(kind, priority=None))[0].fingerprint
        for kind in ("incident.triggered", "incident.acknowledged", "incident.resolved")
    }
    assert len(prints) == 1
    other = parse_webhook(_event(id="Q0OTHER"))[0].fingerprint
    assert other not in prints


def test_events_about_other_things_carry_no_alert() -> None:
    ping = {
        "event": {
            "id": "01DEN6MXYGWV9HBKDAH7WDSMWP",
            "event_type": "pagey.ping",
            "resource_type": "pagey",
            "occurred_at": "2026-03-04T14:07:00.000Z",
            "agent": None,
            "client": None,
            "data": {"message": "Hello from your friend Pagey!", "type": "ping"},
        }
    }
    assert parse_webhook(ping) == []
    note = _event("incident.annotated")
    note["event"]["data"] = {"id": "PN1", "type": "incident_note", "content": "looking"}
    assert parse_webhook(note) == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([_event()], r"must be a JSON object, not an array"),
        (42, r"not a number"),
        ({}, r"^not a PagerDuty v3 webhook: event: Field required"),
        ({"event": "incident.triggered"}, r"event: Input should be a valid dictionary"),
        ({"event": {**_event()["event"], "event_type": None}}, r"event\.event_type"),
        ({"event": {**_event()["event"], "data": []}}, r"event\.data"),
        ({"event": {**_event()["event"], "occurred_at": "now"}}, r"event\.occurred_at"),
        (_event(id=None), r"event\.data\.id"),
        (_event(title=""), r"event\.data\.title"),
        (_event(title=7), r"event\.data\.title"),
        (_event(created_at="then"), r"event\.data\.created_at"),
        (_event(service="checkout"), r"event\.data\.service"),
        (
            _event(teams=[_ref("team", f"T{i}", f"team{i}") for i in range(3)] + [5]),
            r"event\.data\.teams\.3",
        ),
    ],
)
def test_bad_payloads_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(AlertParseError, match=message):
        parse_webhook(payload)


# A delivery body and two signing secrets of our own (PagerDuty's documentation gives no
# secret/body pair). The expected digests were computed independently with
# `openssl dgst -sha256 -hmac <secret>` over the exact bytes below.
BODY = (
    b'{"event":{"id":"01DEN6MXYGWV9HBKDAH7WDSMWP","event_type":"pagey.ping",'
    b'"resource_type":"pagey","occurred_at":"2026-03-04T14:07:00.000Z","agent":null,'
    b'"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}}}'
)
OLD_SECRET, NEW_SECRET = "pd-secret-rotating-0001", "pd-secret-rotating-0002"
OLD_SIG = "d64a6782ac46e8e9afc9d3ae73d888a0119954ad4ee26bc891c5d304b4d8bab6"
NEW_SIG = "527a58e7f67bde0909d188839ac4b8bcade0690228cb1b5d12218ad44577023c"


def test_known_vector() -> None:
    assert hmac.new(OLD_SECRET.encode(), BODY, hashlib.sha256).hexdigest() == OLD_SIG
    assert json.loads(BODY)["event"]["event_type"] == "pagey.ping"
    assert verify_pagerduty_signature(BODY, f"v1={OLD_SIG}", [OLD_SECRET])


def test_rotation_on_either_side() -> None:
    both = f"v1={OLD_SIG},v1={NEW_SIG}"
    assert verify_pagerduty_signature(BODY, both, [NEW_SECRET]), "PagerDuty mid-rotation"
    assert verify_pagerduty_signature(BODY, f"v1={NEW_SIG}", [OLD_SECRET, NEW_SECRET]), "we rotate"
    assert verify_pagerduty_signature(BODY, f"v1={OLD_SIG}, v1={NEW_SIG}", [OLD_SECRET])


@pytest.mark.parametrize(
    ("body", "header", "secrets"),
    [
        (BODY, f"v1={OLD_SIG}", ["wrong-secret"]),
        (BODY.replace(b"Pagey", b"Pwned"), f"v1={OLD_SIG}", [OLD_SECRET]),
        (BODY, None, [OLD_SECRET]),
        (BODY, "", [OLD_SECRET]),
        (BODY, OLD_SIG, [OLD_SECRET]),  # no version prefix
        (BODY, f"v2={OLD_SIG}", [OLD_SECRET]),  # a version we do not know
        (BODY, f"v1={OLD_SIG[:-1]}", [OLD_SECRET]),
        (BODY, f"v1={OLD_SIG}", []),  # nothing configured: fail closed
        (BODY, f"v1={OLD_SIG}", [""]),
        (BODY, "v1=ÿ", [OLD_SECRET]),  # non-ASCII must fail, not raise
    ],
)
def test_signature_failures(body: bytes, header: str | None, secrets: list[str]) -> None:
    assert not verify_pagerduty_signature(body, header, secrets)
