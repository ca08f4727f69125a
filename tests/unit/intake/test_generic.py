"""firstline's own generic JSON alert format: small, documented and strict."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from firstline.domain.alert import AlertStatus
from firstline.intake.errors import AlertParseError
from firstline.intake.generic import GenericAlert, parse_webhook


def _alert(**overrides: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "name": "NightlyBackupFailed",
        "status": "firing",
        "severity": "high",
        "labels": {"service": "billing-db", "namespace": "billing"},
        "annotations": {
            "summary": "pg_dump exited 1",
            "runbook": "https://runbooks.example.org/backup",
        },
        "starts_at": "2026-03-04T02:15:00Z",
        "source": "backup-cron",
    }
    alert.update(overrides)
    return alert


def test_one_alert_is_normalised() -> None:
    payload = _alert()
    [alert] = parse_webhook(payload)
    assert alert.source == "generic"
    assert alert.name == "NightlyBackupFailed"
    assert alert.status is AlertStatus.FIRING
    assert alert.labels == {
        "alertname": "NightlyBackupFailed",
        "service": "billing-db",
        "namespace": "billing",
        "severity": "high",
        "source": "backup-cron",
    }
    assert alert.declared_severity == "high"
    assert alert.annotations["summary"] == "pg_dump exited 1"
    assert alert.starts_at == datetime(2026, 3, 4, 2, 15, tzinfo=UTC)
    assert alert.raw == payload


def test_only_the_name_is_required() -> None:
    before = datetime.now(UTC)
    [alert] = parse_webhook({"name": "Ping"})
    assert alert.status is AlertStatus.FIRING
    assert alert.labels == {"alertname": "Ping"}
    assert alert.starts_at >= before, "starts_at defaults to the time of receipt"


def test_a_list_keeps_order_and_raw_items() -> None:
    payload = [_alert(), _alert(name="NightlyBackupSlow", severity="low")]
    alerts = parse_webhook(payload)
    assert [a.name for a in alerts] == ["NightlyBackupFailed", "NightlyBackupSlow"]
    assert alerts[1].raw == payload[1]


def test_resolution_and_fingerprints() -> None:
    [fired] = parse_webhook(_alert())
    [resolved] = parse_webhook(_alert(status="resolved", ends_at="2026-03-04T03:00:00+00:00"))
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.ends_at == datetime(2026, 3, 4, 3, tzinfo=UTC)
    assert resolved.fingerprint == fired.fingerprint, "label hash ignores status and times"
    [given] = parse_webhook(_alert(fingerprint="backup-billing-db"))
    assert given.fingerprint == "backup-billing-db"
    reordered = _alert(labels={"namespace": "billing", "service": "billing-db"})
    assert parse_webhook(reordered)[0].fingerprint == fired.fingerprint


def test_matching_duplicate_labels_are_fine() -> None:
    [alert] = parse_webhook(_alert(labels={"severity": "high", "source": "backup-cron"}))
    assert alert.labels["severity"] == "high"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("NightlyBackupFailed", r"must be a JSON object or array, not a string"),
        (None, r"not null"),
        (3.5, r"not a number"),
        ([], r"^payload: an empty array"),
        ({}, r"name: Field required"),
        (_alert(name=""), r"name: String should have at least 1 character"),
        (_alert(name=["x"]), r"name: Input should be a valid string"),
        (_alert(status="FIRING"), r"status: Input should be 'firing' or 'resolved'"),
        (
            _alert(severity="warning"),
            r"severity: Input should be 'critical', 'high', 'medium' or 'low'",
        ),
        (_alert(labels={"service": 1}), r"labels\.service: Input should be a valid string"),
        (_alert(labels=["service"]), r"labels: Input should be a valid dictionary"),
        (_alert(annotations={"n": None}), r"annotations\.n"),
        (_alert(starts_at="yesterday"), r"starts_at"),
        (_alert(fingerprint=""), r"fingerprint"),
        (_alert(sevrity="high"), r"sevrity: Extra inputs are not permitted"),
        (
            [_alert(), _alert(hostname="db-1")],
            r"^not a firstline generic alert: 1\.hostname: Extra inputs",
        ),
        ([_alert(), "x"], r"1: Input should be a valid dictionary"),
        (
            _alert(labels={"severity": "low"}),
            r"^severity: 'high' conflicts with labels\.severity 'low'",
        ),
        ([_alert(), _alert(labels={"source": "other"})], r"^1\.source: 'backup-cron' conflicts"),
        (_alert(labels={f"l{i}": "v" for i in range(200)}), r"labels, more than the 128"),
    ],
)
def test_bad_payloads_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(AlertParseError, match=message):
        parse_webhook(payload)


def test_the_schema_documents_the_format() -> None:
    schema = GenericAlert.model_json_schema()
    assert schema["required"] == ["name"]
    assert schema["additionalProperties"] is False
