"""Alertmanager webhook v4 through the shared helpers: field-named errors and the label cap."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from firstline.domain.alert import AlertStatus
from firstline.intake.alertmanager import parse_webhook
from firstline.intake.errors import AlertParseError


def _webhook(**alert: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "status": "resolved",
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "checkout-7d9"},
        "annotations": {"summary": "checkout restarts"},
        "startsAt": "2026-03-04T14:07:00Z",
        "endsAt": "2026-03-04T14:30:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=...",
        "fingerprint": "a1b2c3d4e5f60718",
    }
    item.update(alert)
    return {"version": "4", "status": item["status"], "receiver": "firstline", "alerts": [item]}


def test_resolved_alert() -> None:
    [alert] = parse_webhook(_webhook())
    assert alert.status is AlertStatus.RESOLVED
    assert alert.ends_at == datetime(2026, 3, 4, 14, 30, tzinfo=UTC)
    assert alert.fingerprint == "a1b2c3d4e5f60718"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], r"must be a JSON object, not an array"),
        ({"version": "3", "alerts": []}, r"unsupported Alertmanager webhook version '3'"),
        (_webhook(endsAt="later"), r"^alerts\.0\.endsAt: 'later' is not an RFC 3339 time"),
        (_webhook(labels={"namespace": "shop"}), r"^alerts\.0\.labels: the alertname label"),
        (_webhook(labels={"alertname": "X", "n": 1}), r"alerts\.0\.labels\.n"),
        (
            _webhook(labels={"alertname": "X", **{f"l{i}": "v" for i in range(128)}}),
            r"^alerts\.0: 129 labels, more than the 128 allowed",
        ),
    ],
)
def test_bad_payloads_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(AlertParseError, match=message):
        parse_webhook(payload)
