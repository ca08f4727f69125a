"""LokiBackend against a real Loki-API server (qryn on chdb): which streams a selector picks,
label discovery, time windows, limits, direction and paging."""

from __future__ import annotations

from datetime import timedelta

import pytest

from firstline.domain.evidence import EvidenceStatus
from firstline.sources.loki.client import Direction, LokiClient
from firstline.sources.settings import LokiSettings
from tests.integration.loki.helpers import backend, lines_every_ms, now_ms, scope_of, unique
from tests.services.loki import LokiServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shop(loki: LokiServer) -> str:
    """Four streams: two pods of `cart`, one of `pay` in one namespace, and a namespace
    next door whose labels are otherwise identical."""
    namespace, other = unique("shop"), unique("other")
    start = now_ms() - timedelta(minutes=5)
    streams = [
        ({"namespace": namespace, "pod": "cart-1", "service": "cart"}, "cart-1"),
        ({"namespace": namespace, "pod": "cart-2", "service": "cart"}, "cart-2"),
        ({"namespace": namespace, "pod": "pay-1", "service": "pay"}, "pay-1"),
        ({"namespace": other, "pod": "cart-1", "service": "cart"}, "elsewhere"),
    ]
    for labels, name in streams:
        loki.push(labels, lines_every_ms(start, [f"{name} line {i}" for i in range(3)]))
    loki.wait_for_lines(f'{{namespace="{namespace}"}}', start, now_ms(), at_least=9)
    return namespace


@pytest.mark.parametrize(
    ("labels", "expected_selector", "pods"),
    [
        ({"pod": "cart-1", "service": "cart"}, '{{namespace="{ns}", pod="cart-1", service="cart"}}', {"cart-1"}),
        ({"service": "cart"}, '{{namespace="{ns}", service="cart"}}', {"cart-1", "cart-2"}),
        ({}, '{{namespace="{ns}"}}', {"cart-1", "cart-2", "pay-1"}),
        ({"pod": "pay-1", "instance": "10.0.0.1:80"}, '{{namespace="{ns}", pod="pay-1"}}', {"pay-1"}),
    ],
)  # fmt: skip
async def test_selector_picks_exactly_the_alerts_streams(
    loki: LokiServer, shop: str, labels: dict[str, str], expected_selector: str, pods: set[str]
) -> None:
    evidence = await backend(loki.url).logs(scope_of({"namespace": shop, **labels}))
    assert evidence.status is EvidenceStatus.OK, evidence.reason
    assert evidence.provenance.source == "loki"
    assert evidence.provenance.query == expected_selector.format(ns=shop)
    assert {e.labels["pod"] for e in evidence.entries} == pods
    assert {e.labels["namespace"] for e in evidence.entries} == {shop}
    assert evidence.total_lines == 3 * len(pods)
    assert evidence.reason is None


async def test_job_label_is_a_matcher_too(loki: LokiServer) -> None:
    namespace = unique("jobs")
    start = now_ms() - timedelta(minutes=1)
    loki.push({"namespace": namespace, "job": "batch"}, lines_every_ms(start, ["batch ran"]))
    loki.push({"namespace": namespace, "job": "cron"}, lines_every_ms(start, ["cron ran"]))
    loki.wait_for_lines(f'{{namespace="{namespace}"}}', start, now_ms(), at_least=2)
    evidence = await backend(loki.url).logs(scope_of({"namespace": namespace, "job": "cron"}))
    assert [e.line for e in evidence.entries] == ["cron ran"]


async def test_label_discovery_lists_names_and_values(loki: LokiServer, shop: str) -> None:
    client = LokiClient(LokiSettings(url=loki.url))
    end = now_ms() + timedelta(seconds=1)
    start = end - timedelta(hours=1)
    assert {"namespace", "pod", "service"} <= set(await client.labels(start, end))
    assert {"cart-1", "cart-2", "pay-1"} <= set(await client.label_values("pod", start, end))
    assert shop in await client.label_values("namespace", start, end)
    await client.aclose()


async def test_labels_the_server_does_not_know_are_left_out(loki: LokiServer, shop: str) -> None:
    settings = {"selector_labels": ("namespace", "service", "firstline_unknown_label")}
    labels = {"namespace": shop, "service": "pay", "firstline_unknown_label": "x"}
    found = await backend(loki.url, settings).logs(scope_of(labels))
    assert found.status is EvidenceStatus.OK
    assert found.provenance.query == f'{{namespace="{shop}", service="pay"}}'
    assert "firstline_unknown_label" in (found.reason or "")
    # without discovery the label becomes a matcher that no stream satisfies
    blind = await backend(loki.url, settings, discover_labels=False).logs(scope_of(labels))
    assert blind.status is EvidenceStatus.NO_DATA
    assert "firstline_unknown_label=" in blind.provenance.query


async def test_no_usable_label_is_no_data_with_the_reason(loki: LokiServer) -> None:
    evidence = await backend(loki.url).logs(scope_of({"alertname": "Lonely", "node": "n1"}))
    assert evidence.status is EvidenceStatus.NO_DATA
    assert "none of the labels namespace, pod, service, job" in (evidence.reason or "")
    only_unknown = backend(loki.url, {"selector_labels": ("firstline_unknown_label",)})
    evidence = await only_unknown.logs(scope_of({"firstline_unknown_label": "x"}))
    assert evidence.status is EvidenceStatus.NO_DATA
    assert "no streams labelled firstline_unknown_label" in (evidence.reason or "")


async def test_a_quiet_stream_is_no_data(loki: LokiServer, shop: str) -> None:
    evidence = await backend(loki.url).logs(scope_of({"namespace": shop, "service": "nothing"}))
    assert evidence.status is EvidenceStatus.NO_DATA
    assert "no log lines" in (evidence.reason or "")


async def test_only_lines_inside_the_window(loki: LokiServer) -> None:
    namespace = unique("window")
    now = now_ms()
    marks = {"old": now - timedelta(minutes=30), "mid": now - timedelta(minutes=10),
             "new": now - timedelta(minutes=1)}  # fmt: skip
    loki.push({"namespace": namespace}, [(ts, f"{name} line") for name, ts in marks.items()])
    loki.wait_for_lines(f'{{namespace="{namespace}"}}', now - timedelta(hours=1), now, 3)
    labels = {"namespace": namespace}
    recent = await backend(loki.url).logs(scope_of(labels, now - timedelta(minutes=5), now))
    assert [e.line for e in recent.entries] == ["new line"]
    assert recent.provenance.start == now - timedelta(minutes=5)
    assert recent.provenance.end == now
    middle = await backend(loki.url).logs(
        scope_of(labels, now - timedelta(minutes=20), now - timedelta(minutes=5))
    )
    assert [e.line for e in middle.entries] == ["mid line"]
    everything = await backend(loki.url).logs(scope_of(labels, now - timedelta(hours=1), now))
    assert [e.line for e in everything.entries] == ["old line", "mid line", "new line"]
    assert [e.ts for e in everything.entries] == list(marks.values())


@pytest.fixture(scope="module")
def fifty(loki: LokiServer) -> str:
    namespace = unique("fifty")
    start = now_ms() - timedelta(minutes=2)
    loki.push(
        {"namespace": namespace}, lines_every_ms(start, [f"event {i:02d}" for i in range(50)])
    )
    loki.wait_for_lines(f'{{namespace="{namespace}"}}', start, now_ms(), at_least=50)
    return namespace


async def test_limit_keeps_the_newest_lines_and_says_so(loki: LokiServer, fifty: str) -> None:
    evidence = await backend(loki.url, {"limit": 10}).logs(scope_of({"namespace": fifty}))
    assert evidence.status is EvidenceStatus.OK
    assert evidence.total_lines == 10
    assert [e.line for e in evidence.entries] == [f"event {i:02d}" for i in range(40, 50)]
    assert "more than 10 lines matched" in (evidence.reason or "")
    assert evidence.templates[0].count == 10


async def test_forward_direction_reads_the_oldest_lines(loki: LokiServer, fifty: str) -> None:
    forward = backend(loki.url, {"limit": 10}, direction="forward")
    evidence = await forward.logs(scope_of({"namespace": fifty}))
    assert [e.line for e in evidence.entries] == [f"event {i:02d}" for i in range(10)]
    assert "the oldest 10" in (evidence.reason or "")


async def test_entries_are_a_bounded_sample(loki: LokiServer, fifty: str) -> None:
    evidence = await backend(loki.url, max_entries=5).logs(scope_of({"namespace": fifty}))
    assert evidence.total_lines == 50 and evidence.reason is None
    assert [e.line for e in evidence.entries] == [f"event {i:02d}" for i in range(45, 50)]
    assert evidence.templates[0].count == 50


@pytest.mark.parametrize("direction", ["backward", "forward"])
async def test_paging_reads_every_line_once(loki: LokiServer, direction: Direction) -> None:
    """Small pages over lines that share timestamps in pairs, so that page boundaries fall
    inside a pair: nothing is lost and nothing is read twice. (Pages overlap by a
    millisecond on purpose, so a page must hold more than three such pairs to progress.)"""
    namespace = unique("pages")
    start = now_ms() - timedelta(minutes=1)
    lines = [(start + timedelta(milliseconds=i // 2), f"line {i:02d}") for i in range(23)]
    loki.push({"namespace": namespace}, lines)
    window = (start - timedelta(seconds=1), now_ms() + timedelta(seconds=1))
    selector = f'{{namespace="{namespace}"}}'
    loki.wait_for_lines(selector, *window, at_least=23)
    client = LokiClient(LokiSettings(url=loki.url))
    read = await client.read(selector, *window, limit=100, direction=direction, page_size=7)
    assert sorted(x.line for x in read.lines) == [f"line {i:02d}" for i in range(23)]
    assert not read.truncated and read.pages > 3
    order = [x.ts_ns for x in read.lines]
    assert order == sorted(order, reverse=direction == "backward")
    part = await client.read(selector, *window, limit=10, direction=direction, page_size=7)
    assert len(part.lines) == 10 and part.truncated
    expected = range(13, 23) if direction == "backward" else range(10)
    assert sorted(x.line for x in part.lines) == [f"line {i:02d}" for i in expected]
    await client.aclose()
