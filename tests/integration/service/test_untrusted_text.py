"""Untrusted text through every webhook of a running server: lone UTF-16 surrogates (a
sender that cut an emoji in half), NULs and characters of every Unicode plane, in fields
firstline reads and in fields it does not. Never a 5xx; a valid delivery is stored."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services.firstline_server import FirstlineServer
from tests.unit.intake.test_registry import SAMPLES

RUNS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _deliverable(sample: Any) -> bool:
    # an SNS subscription confirmation would make the server call AWS
    return not (isinstance(sample, dict) and sample.get("Type") == "SubscriptionConfirmation")


CASES = [
    (vendor, n)
    for vendor, samples in sorted(SAMPLES.items())
    for n, sample in enumerate(samples)
    if _deliverable(sample)
]

# One character from every plane (0-16), the whole surrogate range (never valid on its
# own in UTF-8), NUL and the other C0 controls.
_PLANE = st.integers(0, 16).flatmap(
    lambda plane: st.integers(plane << 16, (plane << 16) | 0xFFFF).map(chr)
)
_SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)
_CONTROL = st.integers(0, 0x1F).map(chr)
UNTRUSTED = st.lists(_PLANE | _SURROGATE | _CONTROL, min_size=1, max_size=12).map("".join)


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _string_paths(item, (*path, i))


def _set(value: Any, path: tuple[Any, ...], text: str) -> Any:
    if not path:
        return text
    value = copy.deepcopy(value)
    node = value
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = node[path[-1]] + text
    return value


def _with_unread_field(sample: Any, text: str) -> Any:
    """A field no parser reads (the generic format forbids unknown top-level fields: there,
    a free-form annotation, which firstline stores but does not interpret)."""
    sample = copy.deepcopy(sample)
    target = sample[0] if isinstance(sample, list) else sample
    if "annotations" in target and "name" in target:  # the generic format
        target["annotations"][f"zz_unread{text}"] = text
    else:
        target[f"zz_unread{text}"] = {"note": text, "list": [text, 1]}
    return sample


@pytest.fixture(scope="module")
def http(server: FirstlineServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60, headers=server.webhook_headers) as c:
        yield c


def _post(http: httpx.Client, vendor: str, payload: Any) -> httpx.Response:
    # ensure_ascii: a lone surrogate goes out as the escape "\ud83d", as real senders send it
    body = json.dumps(payload, ensure_ascii=True)
    return http.post(
        f"/webhooks/{vendor}", content=body, headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize(("vendor", "n"), CASES)
@RUNS
@given(text=UNTRUSTED)
def test_untrusted_text_in_an_unread_field_is_stored(
    http: httpx.Client, vendor: str, n: int, text: str
) -> None:
    answer = _post(http, vendor, _with_unread_field(SAMPLES[vendor][n], text))
    assert answer.status_code == 202, (answer.status_code, answer.text[:300])


@pytest.mark.parametrize(("vendor", "n"), CASES)
@RUNS
@given(data=st.data(), text=UNTRUSTED)
def test_untrusted_text_in_any_field_is_never_5xx(
    http: httpx.Client, vendor: str, n: int, data: st.DataObject, text: str
) -> None:
    sample = SAMPLES[vendor][n]
    path = data.draw(st.sampled_from(list(_string_paths(sample))))
    answer = _post(http, vendor, _set(sample, path, text))
    assert answer.status_code < 500, (path, answer.status_code, answer.text[:300])
    if answer.status_code >= 400:
        assert isinstance(answer.json()["error"], str)


def test_a_lone_surrogate_is_stored_as_the_replacement_character(
    http: httpx.Client, server: FirstlineServer
) -> None:
    payload = copy.deepcopy(SAMPLES["alertmanager"][0])
    labels = payload["alerts"][0]["labels"]
    labels["pod"] = "checkout-\ud83d"
    payload["alerts"][0]["fingerprint"] = "surrogate0000001"
    answer = _post(http, "alertmanager", payload)
    assert answer.status_code == 202, answer.text
    with sqlite3.connect(server.data_dir / "incidents.sqlite") as db:
        (stored,) = db.execute(
            "SELECT alert FROM alerts WHERE fingerprint = 'surrogate0000001'"
        ).fetchone()
    assert json.loads(stored)["labels"]["pod"] == "checkout-\ufffd"


def test_no_request_was_answered_5xx(http: httpx.Client) -> None:
    assert http.get("/readyz").status_code == 200
    assert 'status="5' not in http.get("/metrics").text


def test_twenty_thousand_alert_deliveries_in_new_groups_with_untrusted_text(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Two deliveries of 20,000 alerts, each alert a new group (a new incident) carrying a
    lone surrogate and a NUL: no id collision, no 5xx, every alert stored."""
    from tests.services.alert_storm import storm_alerts, webhook_batches
    from tests.services.firstline_server import start_firstline

    env = {
        "FIRSTLINE_SERVE__MAX_BODY_BYTES": str(64 * 1024 * 1024),
        "FIRSTLINE_SERVE__MAX_ALERTS_PER_DELIVERY": "20000",
        "FIRSTLINE_SERVE__WORKERS": "1",
    }
    big = start_firstline(tmp_path_factory.mktemp("twenty-thousand"), env=env)
    try:
        with httpx.Client(base_url=big.url, timeout=300, headers=big.webhook_headers) as client:
            for n in range(2):
                body = webhook_batches(storm_alerts(20_000, 1, prefix=f"big{n}"), 20_000)[0]
                for i, a in enumerate(body["alerts"]):
                    a["labels"] = {**a["labels"], "service": f"big{n}-{i}"}
                    a["annotations"] = {"summary": f"cut emoji \ud83d and a NUL \x00 ({i})"}
                answer = _post(client, "alertmanager", body)
                assert answer.status_code == 202, answer.text[:300]
                assert answer.json()["new_incidents"] == 20_000
        with sqlite3.connect(big.data_dir / "incidents.sqlite") as db:
            incidents = db.execute("SELECT count(DISTINCT id) FROM incidents").fetchone()[0]
            stored = db.execute("SELECT count(*) FROM alerts").fetchone()[0]
        assert incidents == stored == 40_000
    finally:
        big.stop()
