"""Webhooks of a running `firstline serve` over real HTTP: auth, limits, validation,
persistence before the 2xx, dedup and the incident API."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services.firstline_server import HMAC_SECRET, FirstlineServer
from tests.unit.intake.test_registry import SAMPLES

VENDORS = ["alertmanager", "grafana", "pagerduty", "datadog", "cloudwatch", "opsgenie", "generic"]


def _valid(vendor: str) -> Any:
    # the SNS subscription confirmation sample would make the server call AWS: tested apart
    return SAMPLES[vendor][0]


def _am(pod: str, *, status: str = "firing", service: str = "checkout") -> dict[str, Any]:
    return {
        "version": "4", "status": status, "receiver": "firstline",
        "alerts": [{
            "status": status,
            "labels": {"alertname": "HighErrorRate", "namespace": "shop", "service": service,
                       "pod": pod, "severity": "warning"},
            "annotations": {"summary": "errors"},
            "startsAt": "2026-11-26T21:00:00Z",
        }],
    }  # fmt: skip


def _stored_fingerprints(server: FirstlineServer) -> dict[str, int]:
    with sqlite3.connect(server.data_dir / "incidents.sqlite") as db:
        return dict(db.execute("SELECT fingerprint, receipts FROM alerts").fetchall())


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_vendor_is_accepted_with_a_token(server: FirstlineServer, vendor: str) -> None:
    with server.client(headers=server.webhook_headers) as client:
        answer = client.post(f"/webhooks/{vendor}", json=_valid(vendor))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["received"] >= 1
    assert body["new_incidents"] + body["joined"] + body["updated"] == body["received"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_without_credentials_nothing_is_stored(server: FirstlineServer, vendor: str) -> None:
    before = _stored_fingerprints(server)
    with server.client() as client:
        missing = client.post(f"/webhooks/{vendor}", json=_valid(vendor))
        wrong = client.post(
            f"/webhooks/{vendor}", json=_valid(vendor), headers={"Authorization": "Bearer nope"}
        )
    for answer in (missing, wrong):
        assert answer.status_code == 401
        assert answer.json() == {"error": "unauthorized"}, "a 401 says nothing more"
    assert _stored_fingerprints(server) == before


def test_an_hmac_signature_authenticates(server: FirstlineServer) -> None:
    body = json.dumps(_am("hmac-1")).encode()
    signature = hmac.new(HMAC_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Firstline-Signature": f"sha256={signature}"}
    with server.client() as client:
        assert (
            client.post("/webhooks/alertmanager", content=body, headers=headers).status_code == 202
        )
        tampered = body.replace(b"hmac-1", b"hmac-2")
        assert (
            client.post("/webhooks/alertmanager", content=tampered, headers=headers).status_code
            == 401
        )


@pytest.mark.parametrize(
    ("content", "content_type", "status", "says"),
    [
        (b"{not json", "application/json", 400, "malformed JSON"),
        (b'{"version": "4", "alerts": [NaN]}', "application/json", 400, "NaN"),
        (b"\xff\xfe{}", "application/json", 400, "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "malformed JSON"),
        (b"", "application/json", 400, "empty body"),
        (b"{}", "text/plain", 415, "Content-Type"),
        (b'{"version": "4"}', "application/json", 422, "alerts"),
        (b'{"version": "3", "alerts": []}', "application/json", 422, "version"),
        (b'{"version": "4", "alerts": [{"labels": {"alertname": 5}}]}', "application/json", 422, "alerts.0"),
    ],
    ids=["syntax", "nan", "not-utf8", "deep-nesting", "empty", "content-type", "schema",
         "version", "wrong-type"],
)  # fmt: skip
def test_bad_input_gets_a_clear_4xx(
    server: FirstlineServer, content: bytes, content_type: str, status: int, says: str
) -> None:
    headers = {**server.webhook_headers, "Content-Type": content_type}
    with server.client() as client:
        answer = client.post("/webhooks/alertmanager", content=content, headers=headers)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["error"]


def test_a_huge_body_gets_413(server: FirstlineServer) -> None:
    payload = _am("huge")
    payload["alerts"][0]["annotations"]["description"] = "x" * 2_000_000
    with server.client(headers=server.webhook_headers) as client:
        answer = client.post("/webhooks/alertmanager", json=payload)
    assert answer.status_code == 413
    assert "limit" in answer.json()["error"]


def test_an_acknowledged_alert_is_already_on_disk_and_repeats_deduplicate(
    server: FirstlineServer,
) -> None:
    with server.client(headers=server.webhook_headers) as client:
        first = client.post("/webhooks/alertmanager", json=_am("dedup-1", service="dedup"))
        assert first.status_code == 202
        [incident] = first.json()["incidents"]
        # read straight from the store file right after the 2xx: committed, not buffered
        stored = _stored_fingerprints(server)
        again = client.post("/webhooks/alertmanager", json=_am("dedup-1", service="dedup"))
    assert again.json()["updated"] == 1 and again.json()["new_incidents"] == 0
    assert again.json()["incidents"] == [incident]
    assert len(_stored_fingerprints(server)) == len(stored)
    assert sum(_stored_fingerprints(server).values()) == sum(stored.values()) + 1


def _wait_for_status(client: httpx.Client, incident: str, wanted: set[str]) -> dict[str, Any]:
    """Until the incident has a wanted status and its run has stopped (the status is
    written by a node, the queue state and the published investigation after the run)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        detail: dict[str, Any] = client.get(f"/api/v1/incidents/{incident}").json()
        if detail["summary"]["status"] in wanted and detail["queue_state"] in ("done", "paused"):
            return detail
        time.sleep(0.1)
    raise AssertionError(f"{incident} never reached {wanted}: {detail['summary']}")


def test_an_incident_is_investigated_and_closes_when_its_alerts_resolve(
    server: FirstlineServer,
) -> None:
    with (
        server.client(headers=server.webhook_headers) as hooks,
        server.client(headers=server.api_headers) as api,
    ):
        [incident] = hooks.post(
            "/webhooks/alertmanager", json=_am("life-1", service="life")
        ).json()["incidents"]
        joined = hooks.post("/webhooks/alertmanager", json=_am("life-2", service="life")).json()
        assert joined["incidents"] == [incident]
        detail = _wait_for_status(api, incident, {"escalated", "awaiting_approval", "recommended"})
        assert detail["investigation"] is not None, "evidence and decisions are published"
        assert detail["investigation"]["decisions"], "the decision is recorded"
        assert {a["labels"]["pod"] for a in detail["alerts"]} == {"life-1", "life-2"}
        hooks.post("/webhooks/alertmanager", json=_am("life-1", status="resolved", service="life"))
        hooks.post("/webhooks/alertmanager", json=_am("life-2", status="resolved", service="life"))
        closed = _wait_for_status(api, incident, {"closed"})
    assert [e["event"] for e in closed["timeline"]][-1] == "closed"


def test_the_api_needs_its_token_and_names_unknown_incidents(server: FirstlineServer) -> None:
    with server.client() as client:
        assert client.get("/api/v1/incidents").status_code == 401
        assert client.get("/api/v1/incidents", headers=server.webhook_headers).status_code == 401
        answer = client.get("/api/v1/incidents/inc-nope", headers=server.api_headers)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {"error": "no incident with id 'inc-nope'"}
        for verb in ("approve", "reject"):
            decide = client.post(
                f"/api/v1/incidents/inc-nope/{verb}", json={"by": "ana"}, headers=server.api_headers
            )
            assert decide.status_code == 404 and "inc-nope" in decide.json()["error"]
        bad = client.post(
            "/api/v1/incidents/inc-nope/approve", json={"by": ""}, headers=server.api_headers
        )
        assert bad.status_code == 422 and "by" in bad.json()["error"]


def test_health_metrics_and_the_published_openapi(server: FirstlineServer) -> None:
    with server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok", "detail": ""}
        assert client.get("/readyz").status_code == 200
        metrics = client.get("/metrics").text
        spec = client.get("/openapi.json").json()
    assert (
        'firstline_alerts_received_total{outcome="new_incident",source="alertmanager"}' in metrics
    )
    assert "firstline_queue_incidents" in metrics
    assert 'firstline_webhook_requests_total{source="alertmanager",status="401"}' in metrics
    published = json.loads((_repo_root() / "docs" / "openapi.json").read_text())
    assert spec == published, "docs/openapi.json is stale: run `make openapi`"


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def test_a_saturated_store_answers_429_with_retry_after_and_stores_nothing(
    tmp_path: Path,
) -> None:
    from tests.services.firstline_server import start_firstline

    busy = start_firstline(
        tmp_path, env={"FIRSTLINE_SERVE__STORE_BUSY_TIMEOUT_SECONDS": "0.3"}, name="busy"
    )
    try:
        locker = sqlite3.connect(busy.data_dir / "incidents.sqlite", isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # another writer holds the store
        with busy.client(headers=busy.webhook_headers) as client:
            answer = client.post("/webhooks/alertmanager", json=_am("busy-1", service="busy"))
            assert answer.status_code == 429
            assert answer.headers["Retry-After"] == "2"
            assert "nothing was stored" in answer.json()["error"]
            assert client.get("/readyz").status_code == 200, "reads still work meanwhile"
            locker.execute("ROLLBACK")
            retried = client.post("/webhooks/alertmanager", json=_am("busy-1", service="busy"))
            assert retried.status_code == 202 and retried.json()["new_incidents"] == 1
        locker.close()
        assert len(_stored_fingerprints(busy)) == 1
        metrics = httpx.get(f"{busy.url}/metrics").text
        assert (
            'firstline_alerts_received_total{outcome="throttled",source="alertmanager"} 1.0'
            in metrics
        )
    finally:
        busy.stop()
