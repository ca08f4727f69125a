"""Opsgenie alert action webhooks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from firstline.domain.alert import AlertStatus
from firstline.intake.errors import AlertParseError
from firstline.intake.opsgenie import parse_webhook

CREATED_MS = 1772633220000  # 2026-03-04T14:07:00Z; Opsgenie's createdAt is milliseconds
UPDATED_NS = 1772634120000000000  # 14:22:00Z; its updatedAt is nanoseconds


def _action(action: str = "Create", **alert: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "alertId": "3c1f6a52-8d0b-4e7a-9f21-6b5d4c3e2a10-1772633220000",
        "message": "Payment gateway error rate above 5%",
        "tags": ["payments", "env:prod", "service:gateway"],
        "tinyId": "3187",
        "entity": "payment-gateway",
        "alias": "payments-gateway-errors",
        "createdAt": CREATED_MS,
        "updatedAt": UPDATED_NS if action != "Create" else CREATED_MS * 1_000_000,
        "username": "System",
        "userId": "",
        "description": "5xx ratio on /charge crossed 5% for 10 minutes",
        "team": "payments",
        "responders": [{"id": "b2e7c1d0", "type": "team", "name": "payments"}],
        "teams": ["b2e7c1d0"],
        "actions": [],
        "details": {"namespace": "pay", "severity": "critical", "alertname": "GatewayErrors"},
        "priority": "P1",
        "source": "alertmanager",
    }
    body.update(alert)
    return {
        "source": {"name": "", "type": "API" if action == "Create" else "web"},
        "alert": body,
        "action": action,
        "integrationId": "9a4d2c10-1f3b-4b6e-8d7a-5e2f0c9b1a33",
        "integrationName": "firstline",
    }


def test_created_alert_is_normalised() -> None:
    payload = _action()
    [alert] = parse_webhook(payload)
    assert alert.source == "opsgenie"
    assert alert.name == "Payment gateway error rate above 5%"
    assert alert.status is AlertStatus.FIRING
    assert alert.starts_at == datetime(2026, 3, 4, 14, 7, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.labels == {
        "severity": "critical",  # from details (Alertmanager's labels), over priority P1
        "entity": "payment-gateway",
        "env": "prod",
        "service": "gateway",
        "namespace": "pay",
        "alertname": "GatewayErrors",
    }
    assert alert.service == "gateway" and alert.namespace == "pay"
    assert alert.annotations["opsgenie_tiny_id"] == "3187"
    assert alert.annotations["tags"] == "payments, env:prod, service:gateway"
    assert alert.annotations["description"].startswith("5xx ratio")
    assert alert.raw == payload


def test_priority_is_the_severity_when_details_have_none() -> None:
    [alert] = parse_webhook(_action(details={}))
    assert alert.labels["severity"] == "P1"
    assert alert.labels["alertname"] == alert.name


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("Create", AlertStatus.FIRING),
        ("Acknowledge", AlertStatus.FIRING),
        ("UnAcknowledge", AlertStatus.FIRING),
        ("AddNote", AlertStatus.FIRING),
        ("Escalate", AlertStatus.FIRING),
        ("TakeOwnership", AlertStatus.FIRING),
        ("Close", AlertStatus.RESOLVED),
        ("Delete", AlertStatus.RESOLVED),
    ],
)
def test_actions_map_to_status(action: str, expected: AlertStatus) -> None:
    [alert] = parse_webhook(_action(action))
    assert alert.status is expected
    if expected is AlertStatus.RESOLVED:
        assert alert.ends_at == datetime(2026, 3, 4, 14, 22, tzinfo=UTC)


def test_every_action_on_one_alert_shares_a_fingerprint() -> None:
    prints = {parse_webhook(_action(a))[0].fingerprint for a in ("Create", "AddNote", "Close")}
    assert len(prints) == 1
    assert parse_webhook(_action(alertId="other"))[0].fingerprint not in prints
    by_alias = parse_webhook(_action(alertId=None))[0].fingerprint
    assert by_alias == parse_webhook(_action("Close", alertId=None))[0].fingerprint
    assert by_alias not in prints


def test_updated_at_stands_in_for_created_at() -> None:
    [alert] = parse_webhook(_action("Close", createdAt=None))
    assert alert.starts_at == datetime(2026, 3, 4, 14, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([_action()], r"must be a JSON object, not an array"),
        (True, r"not a boolean"),
        (
            {"alert": _action()["alert"]},
            r"^not an Opsgenie webhook payload: action: Field required",
        ),
        ({"action": "Create"}, r"alert: Field required"),
        (_action(message=""), r"alert\.message"),
        (_action(message=None), r"alert\.message"),
        (_action(tags="env:prod"), r"alert\.tags"),
        (_action(details={"n": 1}), r"alert\.details\.n"),
        (_action(createdAt="yesterday"), r"alert\.createdAt"),
        (_action(alertId=None, alias=None), r"^alert\.alertId: missing"),
        (_action(createdAt=None, updatedAt=None), r"^alert\.createdAt: missing"),
        (_action(details={f"d{i}": "v" for i in range(200)}), r"^alert: \d+ labels, more than"),
    ],
)
def test_bad_payloads_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(AlertParseError, match=message):
        parse_webhook(payload)
