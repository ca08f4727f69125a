"""deploy/grafana/firstline.json: valid JSON, each panel's PromQL parses and reads only
series firstline exposes (from a live registry), rate() only over counters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.deploy import exposed
from tests.unit.deploy.conftest import DEPLOY

DASHBOARD = json.loads((DEPLOY / "grafana" / "firstline.json").read_text())


def targets() -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in DASHBOARD["panels"] for t in p["targets"]]


def test_the_dashboard_shape() -> None:
    assert DASHBOARD["uid"] == "firstline" and DASHBOARD["title"]
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    names = {v["name"] for v in DASHBOARD["templating"]["list"]}
    for panel in DASHBOARD["panels"]:
        assert panel["datasource"]["uid"].strip("${}") in names
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs))


@pytest.mark.parametrize(("title", "expr"), targets(), ids=[t for t, _ in targets()])
def test_every_query_parses_and_reads_what_firstline_exposes(title: str, expr: str) -> None:
    exposed.check_expression(expr, exposed.series_types())


def test_what_the_dashboard_must_show() -> None:
    used = {name for _, expr in targets() for name, _ in exposed.selectors(expr)}
    for name in (
        "firstline_alerts_received_total",
        "firstline_webhook_requests_total",
        "firstline_ingest_request_seconds_bucket",
        "firstline_queue_incidents",
        "firstline_queue_oldest_queued_seconds",
        "firstline_investigations_total",
        "firstline_stage_seconds_bucket",
        "firstline_notification_attempts_total",
        "firstline_workers_alive",
    ):
        assert name in used, name
    assert any("histogram_quantile(0.99" in e and "ingest" in e for _, e in targets())


@pytest.mark.parametrize(
    "bad",
    [
        "sum(rate(firstline_alerts_received[5m]))",  # exposed with _total
        "rate(firstline_queue_incidents[5m])",  # a gauge
        "sum(rate(firstline_alerts_received_total[5m])",  # does not parse
        "firstline_nonexistent_total",
    ],
)
def test_the_check_catches_a_wrong_query(bad: str) -> None:
    with pytest.raises((AssertionError, ValueError)):
        exposed.check_expression(bad, exposed.series_types())


def test_the_live_registry_is_read() -> None:
    types: dict[str, Any] = exposed.series_types()
    assert types["firstline_alerts_received_total"] == "counter"
    assert types["firstline_stage_seconds_bucket"] == "histogram"
    assert types["firstline_notification_attempts_total"] == "counter"
