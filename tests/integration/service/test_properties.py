"""Property tests over every endpoint of a running server: malformed, huge and wrongly
typed requests get a 4xx with a JSON error, never a 5xx, and the server stays up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services.firstline_server import FirstlineServer
from tests.unit.intake.test_registry import JSON, SAMPLES

VENDORS = sorted(SAMPLES)
RUNS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def http(server: FirstlineServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _assert_client_error(answer: httpx.Response) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert isinstance(answer.json()["error"], str)


def _mutations(sample: Any) -> st.SearchStrategy[Any]:
    """A valid payload with one top-level field replaced by arbitrary JSON or removed."""
    if not isinstance(sample, dict) or not sample:
        return JSON
    keys = sorted(sample)
    replaced = st.tuples(st.sampled_from(keys), JSON).map(lambda kv: {**sample, kv[0]: kv[1]})
    removed = st.sampled_from(keys).map(lambda k: {x: v for x, v in sample.items() if x != k})
    return replaced | removed


# Payloads that cannot be valid for any vendor: not an object, or an object of junk keys.
INVALID = (
    st.lists(JSON, max_size=3)
    | st.integers() | st.text(max_size=40) | st.booleans() | st.none()
    | st.dictionaries(st.text(min_size=1, max_size=8).map(lambda k: "zz" + k), JSON, max_size=4)
)  # fmt: skip


@pytest.mark.parametrize("vendor", VENDORS)
@RUNS
@given(payload=INVALID)
def test_invalid_json_payloads_get_4xx(
    http: httpx.Client, server: FirstlineServer, vendor: str, payload: Any
) -> None:
    answer = http.post(
        f"/webhooks/{vendor}", content=json.dumps(payload, allow_nan=True),
        headers={**server.webhook_headers, "Content-Type": "application/json"},
    )  # fmt: skip
    _assert_client_error(answer)


@pytest.mark.parametrize("vendor", VENDORS)
@RUNS
@given(data=st.data())
def test_mutated_vendor_payloads_never_5xx(
    http: httpx.Client, server: FirstlineServer, vendor: str, data: st.DataObject
) -> None:
    sample = data.draw(st.sampled_from(SAMPLES[vendor]))
    payload = data.draw(_mutations(sample))
    answer = http.post(
        f"/webhooks/{vendor}", content=json.dumps(payload, allow_nan=True),
        headers={**server.webhook_headers, "Content-Type": "application/json"},
    )  # fmt: skip
    # a mutation may leave the payload valid (an optional field removed): then 2xx
    assert answer.status_code < 500, answer.text[:300]
    if answer.status_code >= 400:
        _assert_client_error(answer)


@pytest.mark.parametrize("vendor", VENDORS)
@RUNS
@given(body=st.binary(max_size=2048), content_type=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=latin-1"]
))  # fmt: skip
def test_arbitrary_bytes_and_content_types_get_4xx(
    http: httpx.Client, server: FirstlineServer, vendor: str, body: bytes, content_type: str
) -> None:
    if body.strip().startswith((b"{", b"[")):
        body = b"\x00" + body  # keep it certainly invalid
    headers = {**server.webhook_headers, "Content-Type": content_type}
    answer = http.post(f"/webhooks/{vendor}", content=body, headers=headers)
    _assert_client_error(answer)


@pytest.mark.parametrize("vendor", VENDORS)
def test_huge_bodies_get_413_before_being_read(
    http: httpx.Client, server: FirstlineServer, vendor: str
) -> None:
    body = b'{"pad": "' + b"x" * 3_000_000 + b'"}'
    answer = http.post(
        f"/webhooks/{vendor}", content=body,
        headers={**server.webhook_headers, "Content-Type": "application/json"},
    )  # fmt: skip
    lying = http.post(
        f"/webhooks/{vendor}", content=iter([body]),  # chunked: no Content-Length to trust
        headers={**server.webhook_headers, "Content-Type": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 413 and lying.status_code == 413


@RUNS
@given(incident=st.text(min_size=1, max_size=40), body=JSON)
def test_api_routes_with_junk_get_4xx(
    http: httpx.Client, server: FirstlineServer, incident: str, body: Any
) -> None:
    path = quote(incident, safe="")
    raw = json.dumps(body, allow_nan=True)
    headers = {**server.api_headers, "Content-Type": "application/json"}
    for answer in (
        http.get(f"/api/v1/incidents/{path}", headers=server.api_headers),
        http.post(f"/api/v1/incidents/{path}/approve", content=raw, headers=headers),
        http.post(f"/api/v1/incidents/{path}/reject", content=raw, headers=headers),
        http.get("/api/v1/incidents", params={"limit": incident}, headers=server.api_headers),
    ):
        if answer.status_code == 200:  # e.g. limit="7" is a valid query
            continue
        _assert_client_error(answer)


def test_the_server_is_still_up(http: httpx.Client) -> None:
    assert http.get("/healthz").status_code == 200
    assert http.get("/readyz").status_code == 200
    metrics = http.get("/metrics").text
    assert 'status="5' not in metrics, "no webhook request was answered 5xx"
