"""Limits of a running server beyond the body size: alerts per delivery, how long a body
may take to arrive, and encodings firstline does not decode."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.services.alert_storm import storm_alerts, webhook_batches
from tests.services.firstline_server import FirstlineServer, start_firstline

CAP = 500
BODY_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstlineServer]:
    env = {
        "FIRSTLINE_SERVE__MAX_ALERTS_PER_DELIVERY": str(CAP),
        "FIRSTLINE_SERVE__BODY_READ_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
    }
    running = start_firstline(tmp_path_factory.mktemp("limits"), env=env)
    yield running
    running.stop()


def _stored(server: FirstlineServer) -> int:
    with sqlite3.connect(server.data_dir / "incidents.sqlite") as db:
        return int(db.execute("SELECT count(*) FROM alerts").fetchone()[0])


def test_a_delivery_over_the_alert_cap_is_413_naming_the_cap(limited: FirstlineServer) -> None:
    (body,) = webhook_batches(storm_alerts(CAP + 1, 1, prefix="cap"), CAP + 1)
    before = _stored(limited)
    with limited.client(headers=limited.webhook_headers) as client:
        answer = client.post("/webhooks/alertmanager", json=body)
        (at_cap,) = webhook_batches(storm_alerts(CAP, 1, prefix="at-cap"), CAP)
        accepted = client.post("/webhooks/alertmanager", json=at_cap)
    assert answer.status_code == 413
    assert "serve.max_alerts_per_delivery" in answer.json()["error"]
    assert str(CAP) in answer.json()["error"]
    assert accepted.status_code == 202 and _stored(limited) == before + CAP


def test_a_body_that_trickles_in_is_cut_off_with_408(limited: FirstlineServer) -> None:
    url = urlparse(limited.url)
    token = limited.webhook_headers["Authorization"]
    with socket.create_connection((url.hostname, url.port), timeout=60) as conn:
        conn.sendall(
            b"POST /webhooks/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            b"\r\nContent-Length: 1000\r\nAuthorization: " + token.encode() + b"\r\n\r\n{"
        )
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer:  # the server answers before the body is complete
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert BODY_TIMEOUT * 0.9 <= waited < 60


@pytest.mark.parametrize(
    ("header", "value", "named"),
    [
        ("Content-Encoding", "gzip", "Content-Encoding gzip"),
        ("Content-Type", "application/json; charset=utf-16", "charset"),
    ],
)
def test_encodings_that_are_not_decoded_are_415(
    limited: FirstlineServer, header: str, value: str, named: str
) -> None:
    headers = {**limited.webhook_headers, "Content-Type": "application/json", header: value}
    with limited.client(headers=headers) as client:
        answer = client.post("/webhooks/alertmanager", content=b'{"alerts": []}')
    assert answer.status_code == 415 and named in answer.json()["error"]


def test_utf8_charset_is_accepted(limited: FirstlineServer) -> None:
    (body,) = webhook_batches(storm_alerts(1, 1, prefix="charset"), 1)
    with limited.client(headers=limited.webhook_headers) as client:
        answer = client.post(
            "/webhooks/alertmanager", json=body,
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )  # fmt: skip
    assert answer.status_code == 202, answer.text


def test_metrics_show_the_audit_head_as_an_external_anchor(limited: FirstlineServer) -> None:
    metrics = limited.client().get("/metrics").text
    assert "firstline_audit_records " in metrics
    assert 'firstline_audit_head{hash="' in metrics
