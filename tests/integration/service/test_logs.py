"""The logs of a real `firstline serve` handling a real webhook: one JSON line per incident
stage and per notification attempt, each naming the incident, an access log, uvicorn's own
lines through the same renderer, and no secret anywhere in the output."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.notify.conftest import ROUTING_KEY
from tests.integration.notify.vendors import VendorServer
from tests.services.firstline_server import (
    API_TOKEN,
    HMAC_SECRET,
    WEBHOOK_TOKEN,
    FirstlineServer,
    start_firstline,
)

SLACK_HOOK_SECRET = "Zq8slackhookpathsecret41"
CONSOLE = "https://console.example.com"
Line = dict[str, Any]


@pytest.fixture(scope="module")
def vendor() -> Iterator[VendorServer]:
    with VendorServer() as server:
        server.fail("pagerduty", 1, status=503)  # the first page is retried, and logged so
        yield server


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory, vendor: VendorServer) -> Iterator[
    tuple[FirstlineServer, dict[str, Any]]
]:  # fmt: skip
    """The server, and its answer to an Alertmanager delivery it got twice."""
    server = start_firstline(
        tmp_path_factory.mktemp("logs"),
        env={
            "FIRSTLINE_LOG__FORMAT": "json",
            "FIRSTLINE_LOG__ACCESS_LOG": "true",
            # debug: httpx then logs each request's URL, the Slack webhook's secret path too
            "FIRSTLINE_LOG__LEVEL": "debug",
            "FIRSTLINE_NOTIFY__PUBLIC_URL": CONSOLE,
            "FIRSTLINE_NOTIFY__PAGERDUTY__ROUTING_KEY": ROUTING_KEY,
            "FIRSTLINE_NOTIFY__PAGERDUTY__URL": f"{vendor.url}/v2/enqueue",
            "FIRSTLINE_NOTIFY__SLACK__WEBHOOK_URL": (
                f"{vendor.url}/hooks/slack/T0/B0/{SLACK_HOOK_SECRET}"
            ),
            "FIRSTLINE_NOTIFY__DELIVERY__INITIAL_BACKOFF_SECONDS": "0.05",
            "FIRSTLINE_NOTIFY__DELIVERY__POLL_INTERVAL_SECONDS": "0.05",
        },
    )
    alert = {
        "version": "4", "status": "firing", "receiver": "firstline",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "DiskAlmostFull", "namespace": "shop",
                       "service": "ledger", "severity": "critical"},
            "annotations": {"summary": "disk 97% full"},
            "startsAt": "2026-11-26T21:00:00Z",
        }],
    }  # fmt: skip
    try:
        with server.client(headers=server.webhook_headers) as client:
            first = client.post("/webhooks/alertmanager", json=alert)
            assert first.status_code == 202, first.text
            assert client.post("/webhooks/alertmanager", json=alert).status_code == 202
        yield server, first.json()
    finally:
        server.stop()


def _lines(server: FirstlineServer) -> list[Line]:
    """Every JSON line of the server's output (the CLI's own 'listening' line is not)."""
    text = server.service.log_path.read_text()
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _wait_for(server: FirstlineServer, done: Any, deadline: float = 60.0) -> list[Line]:
    end = time.monotonic() + deadline
    while True:
        lines = _lines(server)
        if done(lines) or time.monotonic() > end:
            return lines
        time.sleep(0.1)


def _attempts(lines: list[Line], channel: str) -> list[Line]:
    return [x for x in lines if x["event"] == "notification_attempt" and x["channel"] == channel]


def test_every_stage_is_a_json_line_naming_the_incident(
    logged: tuple[FirstlineServer, dict[str, Any]],
) -> None:
    server, answer = logged
    (incident,) = answer["incidents"]
    lines = _wait_for(
        server,
        lambda ls: (
            any(x["event"] == "investigation_finished" for x in ls)
            and any(x["outcome"] == "delivered" for x in _attempts(ls, "pagerduty"))
        ),
    )
    mine = [x for x in lines if x.get("incident_id") == incident]
    events = [x["event"] for x in mine]
    for event in ("alert_received", "alert_deduplicated", "investigation_started", "decision"):
        assert event in events, f"no {event} line for {incident}: {events}"
    received = next(x for x in mine if x["event"] == "alert_received")
    assert received["alert"] == "DiskAlmostFull" and received["vendor"] == "alertmanager"
    stages = [x["stage"] for x in mine if x["event"] == "node_finished"]
    assert stages[:4] == ["triage", "gather_evidence", "analyze", "decide"]
    # no evidence source is configured: nothing can explain the alert, a person is paged
    decision = next(x for x in mine if x["event"] == "decision")
    assert decision["outcome"] == "escalate" and decision["rule"]
    escalated = next(x for x in mine if x["event"] == "escalated")
    assert f"rule {decision['rule']}" in escalated["reason"]
    assert stages[-1] == "escalate"
    assert events.index("investigation_started") < events.index("investigation_finished")
    finished = next(x for x in mine if x["event"] == "investigation_finished")
    assert finished["status"] == "escalated"
    for line in mine:
        assert line["timestamp"].endswith("Z")
        if line["logger"].startswith("firstline."):
            assert line["level"] in ("info", "warning"), line


def test_each_notification_attempt_is_a_line_with_its_status_code(
    logged: tuple[FirstlineServer, dict[str, Any]],
) -> None:
    server, answer = logged
    (incident,) = answer["incidents"]
    lines = _wait_for(
        server, lambda ls: any(x["outcome"] == "delivered" for x in _attempts(ls, "pagerduty"))
    )
    paged = _attempts(lines, "pagerduty")
    retry, delivered = paged[0], paged[-1]
    assert (retry["outcome"], retry["status_code"], retry["attempt"]) == ("retry", 503, 1)
    assert retry["level"] == "warning" and "503" in retry["error"]
    assert (delivered["outcome"], delivered["status_code"]) == ("delivered", 202)
    assert delivered["attempt"] == 2
    assert all(x["incident_id"] == incident for x in paged)
    slack = _wait_for(server, lambda ls: bool(_attempts(ls, "slack")))
    assert _attempts(slack, "slack")[0]["status_code"] == 200


def test_access_log_and_uvicorn_lines_share_the_renderer(
    logged: tuple[FirstlineServer, dict[str, Any]],
) -> None:
    server, _ = logged
    lines = _lines(server)
    posts = [
        x for x in lines if x["event"] == "http_request" and x["path"] == "/webhooks/alertmanager"
    ]
    assert len(posts) == 2
    assert {(x["method"], x["status"], x["client"]) for x in posts} == {("POST", 202, "127.0.0.1")}
    assert all(isinstance(x["duration_ms"], float) and x["duration_ms"] > 0 for x in posts)
    assert any(x["logger"].startswith("uvicorn") for x in lines), "uvicorn logs through us"


def test_no_secret_reaches_the_output(logged: tuple[FirstlineServer, dict[str, Any]]) -> None:
    server, _ = logged
    lines = _wait_for(server, lambda ls: bool(_attempts(ls, "slack")))
    posted = [x["event"] for x in lines if x["logger"] == "httpx"]
    assert any("POST [redacted]" in str(e) for e in posted), "httpx named the Slack webhook"
    text = Path(server.service.log_path).read_text()
    for secret in (WEBHOOK_TOKEN, API_TOKEN, HMAC_SECRET, ROUTING_KEY, SLACK_HOOK_SECRET):
        assert secret not in text
