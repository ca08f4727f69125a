"""Grafana Alerting webhook contact point payloads, and Grafana's HMAC signature."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from firstline.domain.alert import AlertStatus
from firstline.intake.errors import AlertParseError
from firstline.intake.grafana import parse_webhook, verify_grafana_signature
from firstline.intake.signatures import hmac_sha256_hex


def _alert(status: str = "firing", **overrides: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": status,
        "labels": {
            "alertname": "CheckoutLatencyHigh",
            "grafana_folder": "payments",
            "service": "checkout",
            "namespace": "shop",
            "severity": "critical",
        },
        "annotations": {
            "summary": "p99 latency of checkout above 2s",
            "runbook_url": "https://runbooks.example.org/checkout-latency",
        },
        "startsAt": "2026-03-04T15:07:00.120+01:00",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-03-04T14:30:00Z",
        "generatorURL": "https://grafana.example.org/alerting/grafana/dd1e2f0/view",
        "fingerprint": "6f1c0a2be93d4471",
        "silenceURL": "https://grafana.example.org/alerting/silence/new?matcher=alertname%3DCheckoutLatencyHigh",
        "dashboardURL": "https://grafana.example.org/d/ck-latency",
        "panelURL": "",
        "values": {"B": 2.418, "C": 1},
        "valueString": "[ var='B' labels={service=checkout} value=2.418 ]",
    }
    alert.update(overrides)
    return alert


def _webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "receiver": "firstline",
        "status": alerts[0]["status"] if alerts else "firing",
        "orgId": 1,
        "alerts": list(alerts),
        "groupLabels": {"alertname": "CheckoutLatencyHigh"},
        "commonLabels": {"alertname": "CheckoutLatencyHigh"},
        "commonAnnotations": {},
        "externalURL": "https://grafana.example.org/",
        "version": "1",
        "groupKey": '{}/{alertname="CheckoutLatencyHigh"}:{alertname="CheckoutLatencyHigh"}',
        "truncatedAlerts": 0,
        "title": "[FIRING:1] CheckoutLatencyHigh payments (checkout shop critical)",
        "state": "alerting",
        "message": "**Firing** ...",
    }


def test_grafana_alert_is_normalised() -> None:
    payload = _webhook(_alert())
    [alert] = parse_webhook(payload)
    assert alert.source == "grafana"
    assert alert.name == "CheckoutLatencyHigh"
    assert alert.status is AlertStatus.FIRING
    assert alert.labels["service"] == "checkout"
    assert alert.service == "checkout" and alert.namespace == "shop"
    assert alert.starts_at == datetime(2026, 3, 4, 14, 7, 0, 120000, tzinfo=UTC)
    assert alert.ends_at is None, "Go's zero time means still firing"
    assert alert.fingerprint == "6f1c0a2be93d4471", "Grafana's fingerprint is kept"
    assert alert.generator_url == "https://grafana.example.org/alerting/grafana/dd1e2f0/view"
    assert alert.annotations["summary"] == "p99 latency of checkout above 2s"
    assert alert.annotations["dashboard_url"] == "https://grafana.example.org/d/ck-latency"
    assert alert.annotations["values"] == "B=2.418, C=1"
    assert "panel_url" not in alert.annotations, "empty links are left out"
    assert alert.raw == payload["alerts"][0]


def test_resolved_alert_keeps_its_fingerprint() -> None:
    [firing] = parse_webhook(_webhook(_alert()))
    [resolved] = parse_webhook(_webhook(_alert("resolved")))
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.ends_at == datetime(2026, 3, 4, 14, 30, tzinfo=UTC)
    assert resolved.fingerprint == firing.fingerprint


def test_label_hash_when_grafana_sends_no_fingerprint() -> None:
    one = parse_webhook(_webhook(_alert(fingerprint=None)))[0]
    two = parse_webhook(_webhook(_alert(fingerprint="")))[0]
    assert one.fingerprint == two.fingerprint != "6f1c0a2be93d4471"


def test_several_alerts_keep_their_order() -> None:
    second = _alert(labels={"alertname": "CheckoutErrors", "service": "checkout"})
    alerts = parse_webhook(_webhook(_alert(), second))
    assert [a.name for a in alerts] == ["CheckoutLatencyHigh", "CheckoutErrors"]


def test_rule_annotations_win_over_ours() -> None:
    alert = _alert(annotations={"dashboard_url": "mine"})
    assert parse_webhook(_webhook(alert))[0].annotations["dashboard_url"] == "mine"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], r"must be a JSON object, not an array"),
        ("alerts", r"must be a JSON object, not a string"),
        (None, r"not null"),
        ({"receiver": "x"}, r"alerts: Field required"),
        (_webhook(), r"alerts: List should have at least 1 item"),
        (_webhook(_alert(labels={"service": "checkout"})), r"alerts\.0\.labels: the alertname"),
        (_webhook(_alert(labels={"alertname": 5})), r"alerts\.0\.labels\.alertname"),
        (_webhook(_alert(startsAt="soon")), r"alerts\.0\.startsAt"),
        (_webhook(_alert(endsAt="later")), r"alerts\.0\.endsAt"),
        (_webhook(_alert(status="pending")), r"alerts\.0\.status"),
        (_webhook(_alert(values={"B": "high"})), r"alerts\.0\.values\.B"),
        (
            _webhook(_alert(labels={"alertname": "X", **{f"l{i}": "v" for i in range(200)}})),
            r"alerts\.0: 201 labels",
        ),
    ],
)
def test_bad_payloads_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(AlertParseError, match=message):
        parse_webhook(payload)


def test_hmac_signature_with_and_without_timestamp() -> None:
    body = json.dumps(_webhook(_alert())).encode()
    plain = hmac_sha256_hex("grafana-secret", body)
    assert verify_grafana_signature(body, plain, ["grafana-secret"])
    assert verify_grafana_signature(body, plain.upper(), ["old", "grafana-secret"])
    assert not verify_grafana_signature(body, plain, ["other"])
    assert not verify_grafana_signature(body + b"\n", plain, ["grafana-secret"])
    assert not verify_grafana_signature(body, None, ["grafana-secret"])
    assert not verify_grafana_signature(body, plain, [])
    stamped = hmac_sha256_hex("grafana-secret", b"1772633220:" + body)
    assert verify_grafana_signature(body, stamped, ["grafana-secret"], timestamp="1772633220")
    assert not verify_grafana_signature(body, stamped, ["grafana-secret"], timestamp="1772633221")
    assert not verify_grafana_signature(body, stamped, ["grafana-secret"])
    assert not verify_grafana_signature(body, stamped, ["grafana-secret"], timestamp="x")
