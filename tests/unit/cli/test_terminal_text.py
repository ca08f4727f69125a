"""Narrowing for the terminal keeps the facts: image tags and digests, a series' shape and
its last value with the unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firstline.cli.terminal_text import BARS, metric_line, short_images, sparkline
from firstline.domain.evidence import MetricEvidence, MetricPoint, Provenance


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("registry.example.com/catalog/search-api:5.8.1 -> registry.example.com/catalog/"
         "search-api:5.9.0", "search-api:5.8.1 -> search-api:5.9.0"),
        ("(api localhost:5000/team/api:v2)", "(api api:v2)"),
        ("ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef", "app@sha256:0123456"),
        ("docker.io/library/nginx:1.25@sha256:feedface99", "nginx:1.25@sha256:feedfac"),
        # not images: no tag or digest, or no path
        ("rollback deployment/catalog/search-api (to_revision=41)", None),
        ("SEARCH_BACKEND=opensearch.catalog.svc:9200", None),
        ("see /var/log/app.log:12", None),
    ],
)  # fmt: skip
def test_images_keep_their_name_and_tag(text: str, short: str | None) -> None:
    assert short_images(text) == (text if short is None else short)


def test_a_sparkline_follows_the_series_within_its_width() -> None:
    assert sparkline([]) == ""
    assert sparkline([3.0, 3.0, 3.0]) == BARS[0] * 3
    rising = sparkline([float(v) for v in range(8)])
    assert rising == BARS
    long = sparkline([0.0] * 90 + [10.0] * 30, width=12)
    assert len(long) == 12
    assert set(long[:9]) == {BARS[0]} and set(long[9:]) == {BARS[-1]}


def test_a_metric_line_names_the_metric_and_its_last_value_in_its_unit() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    points = [MetricPoint(ts=t0 + timedelta(minutes=i), value=v)
              for i, v in enumerate([0.004, 0.005, 0.07, 0.072])]  # fmt: skip
    metric = MetricEvidence(id="metric:error_rate", name="error_rate", unit="ratio",
                            points=points, provenance=Provenance(source="t", query="q"))  # fmt: skip
    name, bars, last = metric_line(metric).split(" ")
    assert (name, last) == ("error_rate", "7.2%")
    assert bars[0] == BARS[0] and bars[-1] == BARS[-1] and len(bars) == 4
    empty = metric.model_copy(update={"points": []})
    assert metric_line(empty).endswith("no data")
