"""The metric chart as a document: one marker per point, the marks it promises, text a
screen reader gets, ids that do not clash on one page, and a PNG; matplotlib loaded only
when a chart is drawn."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from firstline.charts import VerificationMark, metric_chart_png, metric_chart_svg
from firstline.domain.evidence import AnomalyFinding, MetricEvidence, MetricPoint, Provenance

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


def _metric(count: int = 30, *, finding: bool = True) -> MetricEvidence:
    return MetricEvidence(
        id="metric:memory_working_set", name="memory_working_set", unit="bytes",
        provenance=Provenance(source="replay", query="container_memory_working_set_bytes"),
        points=[MetricPoint(ts=T0 + timedelta(minutes=n), value=2e8 + (n >= 20) * 3e8)
                for n in range(count)],
        findings=[AnomalyFinding(detector="robust_z", score=0.9, started_at=T0 + timedelta(minutes=20),
                                 sentence="rose from 200M to 500M")] if finding else [],
    )  # fmt: skip


def _by_id(root: ET.Element, suffix: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.get("id", "").endswith(suffix)]


def test_one_marker_per_point_and_every_promised_mark() -> None:
    svg = metric_chart_svg(
        _metric(30), alert_started_at=T0 + timedelta(minutes=22),
        verification=VerificationMark(resolved=True, reason="the alert stopped firing"),
        chart_id="c7",
    )  # fmt: skip
    root = ET.fromstring(svg)
    [points] = _by_id(root, "c7-metric-points")
    assert len(list(points.iter(f"{SVG}use"))) == 30
    for mark in ("anomaly-window", "alert-start", "verification"):
        assert len(_by_id(root, f"c7-{mark}")) == 1, mark
    assert not _by_id(root, "c7-metric-points")[0].get("id", "").startswith("c7-c7")
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "time (UTC)" in texts and "bytes" in texts, "axis labels are text, with the unit"


def test_it_tells_a_screen_reader_what_it_shows() -> None:
    svg = metric_chart_svg(
        _metric(30), alert_started_at=T0 + timedelta(minutes=22),
        verification=VerificationMark(resolved=False, reason="the alert is still firing",
                                      at=T0 + timedelta(minutes=29)),
        chart_id="c1",
    )  # fmt: skip
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.findtext(f"{SVG}title") == "memory_working_set (bytes)"
    desc = root.findtext(f"{SVG}desc") or ""
    for fact in ("30 points", "13:00", "13:29", "lowest 2e+08", "highest 5e+08",
                 "Anomaly from 2026-03-04 13:20", "Alert started at 2026-03-04 13:22",
                 "not resolved, the alert is still firing"):  # fmt: skip
        assert fact in desc, (fact, desc)


def test_text_follows_the_page_colour_and_data_colours_are_fixed() -> None:
    svg = metric_chart_svg(_metric(), chart_id="c")
    assert "currentColor" in svg and "#010203" not in svg
    assert "#3b82f6" in svg, "the series keeps its own colour"
    assert "<path" in svg and "<text" in svg


def test_two_charts_share_no_id() -> None:
    first, second = (ET.fromstring(metric_chart_svg(_metric(), chart_id=c)) for c in "ab")
    ids = [{e.get("id") for e in root.iter() if e.get("id")} for root in (first, second)]
    assert ids[0] and not ids[0] & ids[1]
    hrefs = {e.get("{http://www.w3.org/1999/xlink}href") for e in first.iter(f"{SVG}use")}
    assert hrefs and all(h and h[1:] in ids[0] for h in hrefs), "references follow the ids"


def test_without_findings_there_is_no_window_and_an_empty_series_still_draws() -> None:
    root = ET.fromstring(metric_chart_svg(_metric(finding=False), chart_id="n"))
    assert not _by_id(root, "n-anomaly-window")
    empty = ET.fromstring(metric_chart_svg(_metric(0), chart_id="e"))
    assert "no data points" in (empty.findtext(f"{SVG}desc") or "")


def test_png_bytes() -> None:
    png = metric_chart_png(_metric(), alert_started_at=T0)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_importing_the_package_does_not_load_matplotlib() -> None:
    probe = (
        "import sys, firstline.charts, firstline.service.app; print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
