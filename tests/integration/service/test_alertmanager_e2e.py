"""A real Alertmanager (Debian package) notifies a running `firstline serve` through its
webhook receiver, with bearer authorization as an operator would configure it: the
incident appears, is investigated, and closes when the alert resolves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services.firstline_server import WEBHOOK_TOKEN, FirstlineServer, start_firstline
from tests.services.prometheus import start_alertmanager


@pytest.fixture
def alertmanager_to_firstline(tmp_path: Path) -> Iterator[tuple[str, FirstlineServer]]:
    firstline = start_firstline(tmp_path)
    alertmanager, url = start_alertmanager(
        tmp_path,
        "route:\n  receiver: firstline\n  group_by: [alertname, namespace, service]\n"
        "  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n"
        "receivers:\n  - name: firstline\n    webhook_configs:\n"
        f"      - url: {firstline.url}/webhooks/alertmanager\n        send_resolved: true\n"
        "        http_config:\n          authorization:\n            type: Bearer\n"
        f"            credentials: {WEBHOOK_TOKEN}\n",
    )
    yield url, firstline
    alertmanager.stop()
    firstline.stop()


def _alert(pod: str, ends: datetime | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "labels": {"alertname": "CheckoutErrors", "namespace": "shop", "service": "checkout",
                   "pod": pod, "severity": "warning"},
        "annotations": {"summary": "checkout answers errors"},
        "startsAt": (now - timedelta(minutes=2)).isoformat(),
    }  # fmt: skip
    if ends is not None:
        body["endsAt"] = ends.isoformat()
    return body


def _until(check: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_alertmanager_notifies_firstline_which_investigates_and_closes(
    alertmanager_to_firstline: tuple[str, FirstlineServer],
) -> None:
    am_url, firstline = alertmanager_to_firstline
    httpx.post(f"{am_url}/api/v2/alerts", json=[_alert("checkout-1"), _alert("checkout-2")],
               timeout=10).raise_for_status()  # fmt: skip
    api = firstline.client(headers=firstline.api_headers)

    def incidents() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = api.get("/api/v1/incidents").json()
        return found

    [incident] = _until(incidents, "the incident to appear")
    assert incident["alert_name"] == "CheckoutErrors"

    def investigated() -> dict[str, Any] | None:
        detail: dict[str, Any] = api.get(f"/api/v1/incidents/{incident['id']}").json()
        return (
            detail
            if detail["investigation"] is not None and detail["queue_state"] == "done"
            else None
        )

    detail = _until(investigated, "the investigation")
    assert {a["labels"]["pod"] for a in detail["alerts"]} == {"checkout-1", "checkout-2"}
    assert all(a["source"] == "alertmanager" and a["raw"] for a in detail["alerts"])
    assert detail["investigation"]["decisions"], "a decision was taken"
    assert detail["summary"]["status"] in {"escalated", "recommended"}

    ended = datetime.now(UTC) - timedelta(seconds=1)
    httpx.post(f"{am_url}/api/v2/alerts",
               json=[_alert("checkout-1", ended), _alert("checkout-2", ended)],
               timeout=10).raise_for_status()  # fmt: skip

    def closed() -> dict[str, Any] | None:
        detail: dict[str, Any] = api.get(f"/api/v1/incidents/{incident['id']}").json()
        return detail if detail["summary"]["status"] == "closed" else None

    final = _until(closed, "the incident to close on resolution")
    events = [e["event"] for e in final["timeline"]]
    assert "alert received" in events and "closed" in events
    assert len(incidents()) == 1, "Alertmanager's repeats and resolution opened nothing new"
    api.close()
