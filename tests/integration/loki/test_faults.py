"""Broken and unusual backends: every failure is error evidence with a reason, never an
exception. Also what goes over the wire (auth, tenant, Loki's own answer formats) and probe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firstline.domain.evidence import EvidenceStatus
from firstline.sources.errors import SourceRejected, SourceUnavailable
from firstline.sources.loki.client import LokiClient, to_ns
from firstline.sources.settings import LokiSettings
from tests.integration.loki.helpers import Route, backend, path_stub, scope_of
from tests.services.loki import LokiServer
from tests.services.process import free_port
from tests.services.stubs import Behaviour, misbehaving_server

pytestmark = pytest.mark.integration

ALERT = {"namespace": "shop", "service": "cart"}
SELECTOR = '{namespace="shop", service="cart"}'
T = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)
LOKI_STREAMS = {
    "status": "success",
    "data": {
        "resultType": "streams",
        "result": [
            {
                "stream": {"namespace": "shop", "service": "cart"},
                "values": [
                    [str(to_ns(T) + 1), "second", {"trace_id": "abc"}],  # structured metadata
                    [str(to_ns(T)), "first"],
                ],
            }
        ],
        "stats": {},
    },
}


async def test_unreachable_server_is_error_evidence() -> None:
    evidence = await backend(f"http://127.0.0.1:{free_port()}", {"retries": 2}).logs(
        scope_of(ALERT)
    )
    assert evidence.status is EvidenceStatus.ERROR
    assert "ConnectError" in (evidence.reason or "")
    assert evidence.provenance.query == SELECTOR and evidence.provenance.source == "loki"


@pytest.mark.parametrize("discover", [True, False])
async def test_5xx_is_retried_then_reported_with_the_servers_message(discover: bool) -> None:
    behaviour = Behaviour(status=500, body=b"ingester unavailable", content_type="text/plain")
    with misbehaving_server(behaviour) as url:
        found = await backend(url, {"retries": 2}, discover_labels=discover).logs(scope_of(ALERT))
    assert found.status is EvidenceStatus.ERROR
    assert "HTTP 500" in (found.reason or "") and "ingester unavailable" in (found.reason or "")
    assert len(behaviour.hits) == 3, "one try and two retries"
    path = "/loki/api/v1/labels" if discover else "/loki/api/v1/query_range"
    assert all(hit.startswith(path) for hit in behaviour.hits)


async def test_slower_than_the_timeout_is_error_evidence() -> None:
    with misbehaving_server(Behaviour(delay_seconds=2.0)) as url:
        settings = {"timeout_seconds": 0.3, "retries": 0}
        evidence = await backend(url, settings, discover_labels=False).logs(scope_of(ALERT))
    assert evidence.status is EvidenceStatus.ERROR
    assert "timeout" in (evidence.reason or "")


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"<html>proxy error</html>", "non-JSON"),
        (b'{"status": "success"}', "expected log streams"),
        (b'{"status": "success", "data": {"resultType": "matrix", "result": []}}', "got matrix"),
        (b'{"status": "success", "data": {"resultType": "streams", "result": [{"values": []}]}}',
         "stream shape"),
        (b'{"status": "success", "data": {"resultType": "streams", "result": '
         b'[{"stream": {}, "values": [["soon", "line"]]}]}}', "timestamp"),
        (b'{"status": "success", "data": {"resultType": "streams", "result": '
         b'[{"stream": {}, "values": [["1"]]}]}}', "not [timestamp, line]"),
        (b'{"status": "success", "data": {"resultType": "streams", "result": '
         b'[{"stream": {}, "values": [["1' + b"0" * 30 + b'", "x"]]}]}}', "out of range"),
        (b'{"status": "error", "error": "too many outstanding requests"}', "outstanding"),
    ],
)  # fmt: skip
async def test_malformed_answers_are_error_evidence(body: bytes, said: str) -> None:
    # the same body answers label discovery, where an empty success is legitimate (Loki
    # omits `data` when no label is known), so discovery is off here
    with misbehaving_server(Behaviour(body=body)) as url:
        evidence = await backend(url, discover_labels=False).logs(scope_of(ALERT))
    assert evidence.status is EvidenceStatus.ERROR
    assert said in (evidence.reason or "")


async def test_a_query_the_server_refuses_is_not_retried(loki: LokiServer) -> None:
    client = LokiClient(LokiSettings(url=loki.url, retries=3))
    with pytest.raises(SourceRejected, match="HTTP 400"):
        await client.query_range(
            '{namespace="shop"', to_ns(T), to_ns(T) + 1, limit=10, direction="backward"
        )
    await client.aclose()
    text_error = Route(400, b"parse error at line 1, col 18: syntax error: unexpected $end")
    with path_stub({"/loki/api/v1/query_range": text_error}) as (url, stub):
        evidence = await backend(url, {"retries": 3}).logs(scope_of(ALERT))
    assert "HTTP 400" in (evidence.reason or "") and "parse error" in (evidence.reason or "")
    assert [p for p, _ in stub.seen if "query_range" in p] != [] and len(stub.seen) == 2


async def test_what_goes_over_the_wire_and_lokis_answer_format() -> None:
    """Auth, tenant and extra headers on every request; nanosecond bounds, limit and
    direction; Loki's string timestamps and structured metadata read correctly."""
    routes = {
        "/loki/api/v1/labels": Route(body={"status": "success", "data": ["namespace", "service"]}),
        "/loki/api/v1/query_range": Route(body=LOKI_STREAMS),
    }
    settings = {
        "bearer_token": "s3cret",
        "tenant": "team-a",
        "headers": {"X-Firstline-Test": "yes"},
        "limit": 50,
    }
    start, end = T - timedelta(minutes=5), T + timedelta(minutes=1)
    with path_stub(routes) as (url, stub):
        evidence = await backend(url, settings).logs(scope_of(ALERT, start, end))
    assert evidence.status is EvidenceStatus.OK, evidence.reason
    assert [e.line for e in evidence.entries] == ["first", "second"]
    assert evidence.entries[0].ts == T and evidence.entries[0].labels == ALERT
    assert evidence.total_lines == 2
    for _path, headers in stub.seen:
        assert headers["authorization"] == "Bearer s3cret"
        assert headers["x-scope-orgid"] == "team-a"
        assert headers["x-firstline-test"] == "yes"
    query = next(p for p, _ in stub.seen if p.startswith("/loki/api/v1/query_range"))
    assert f"start={to_ns(start)}" in query and f"end={to_ns(end)}" in query
    assert "limit=51" in query and "direction=backward" in query


async def test_basic_auth_and_a_refused_label_discovery() -> None:
    """Some gateways forbid the labels API; the selector is then built without it."""
    routes = {
        "/loki/api/v1/labels": Route(403, {"message": "labels API disabled"}),
        "/loki/api/v1/query_range": Route(body=LOKI_STREAMS),
    }
    settings = {"username": "firstline", "password": "pw"}
    with path_stub(routes) as (url, stub):
        evidence = await backend(url, settings).logs(scope_of(ALERT))
    assert evidence.status is EvidenceStatus.OK
    assert evidence.provenance.query == SELECTOR
    assert all(h["authorization"].startswith("Basic ") for _, h in stub.seen)


async def test_probe_names_the_server_or_fails_with_the_reason(loki: LokiServer) -> None:
    assert (await backend(loki.url).probe()).startswith("Loki API (")  # qryn has no buildinfo
    info = Route(body={"version": "3.4.2", "revision": "abc", "branch": "HEAD"})
    with path_stub({"/loki/api/v1/status/buildinfo": info}) as (url, _stub):
        assert await backend(url).probe() == "Loki 3.4.2"
    with pytest.raises(SourceUnavailable):
        await backend(f"http://127.0.0.1:{free_port()}", {"retries": 0}).probe()
