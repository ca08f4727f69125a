"""One metric's chart: its points, the anomaly window its detector found, the alert's start
and the verification's verdict, on one time axis.

The SVG keeps its text as text (`svg.fonttype: none`) and draws text, axes and ticks in
`currentColor`, so the page around it decides whether they are dark on light or light on
dark; the data colours are mid-tones readable on both. It names itself for assistive
technology (`role="img"`, `<title>`, `<desc>` with the numbers). The PNG, for places that
cannot follow the reader's colour scheme, is drawn dark on white.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from firstline.domain.evidence import MetricEvidence

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Series and markers, chosen to keep >= 3:1 contrast on white and on near-black.
LINE = "#3b82f6"
ANOMALY = "#f59e0b"
ALERT = "#d946ef"
RESOLVED = "#16a34a"
UNRESOLVED = "#ef4444"
# Drawn for "the page's text colour": replaced by currentColor in the SVG.
_INK = "#010203"
_PNG_INK = "#1f2328"

POINTS_ID = "metric-points"
"""The group holding one marker (`<use>`) per point of the series."""


@dataclass(frozen=True)
class VerificationMark:
    """What the verify step concluded after the fix (graph/state.py Verification), and when
    (the timeline's `verify` entry; None draws it at the end of the series)."""

    resolved: bool
    reason: str
    at: datetime | None = None


def metric_chart_svg(
    metric: MetricEvidence,
    *,
    alert_started_at: datetime | None = None,
    verification: VerificationMark | None = None,
    chart_id: str = "chart",
) -> str:
    """An SVG document; `chart_id` prefixes every id in it, so several charts can share
    one HTML page."""
    title, desc = describe(metric, alert_started_at, verification)
    figure = _draw(metric, alert_started_at, verification, ink=_INK)
    buffer = io.BytesIO()
    with _LOCK:  # matplotlib's renderers read module-wide settings
        _canvases().svg(figure)
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue().decode()
    svg = svg.replace(_INK, "currentColor")
    svg = _prefix_ids(svg[svg.index("<svg") :], chart_id)
    return _label(svg, chart_id, title, desc)


def metric_chart_png(
    metric: MetricEvidence,
    *,
    alert_started_at: datetime | None = None,
    verification: VerificationMark | None = None,
    dpi: int = 100,
) -> bytes:
    figure = _draw(metric, alert_started_at, verification, ink=_PNG_INK)
    figure.set_facecolor("white")
    buffer = io.BytesIO()
    with _LOCK:
        _canvases().agg(figure)
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def describe(
    metric: MetricEvidence,
    alert_started_at: datetime | None,
    verification: VerificationMark | None,
) -> tuple[str, str]:
    """The chart's title and, for a reader who cannot see it, what it shows in numbers."""
    unit = f" ({metric.unit})" if metric.unit else ""
    title = f"{metric.name}{unit if metric.unit != metric.name else ''}"
    if not metric.points:
        return title, f"{metric.name}: no data points."
    values = [p.value for p in metric.points]
    parts = [
        f"{len(values)} points from {_hm(metric.points[0].ts)} to {_hm(metric.points[-1].ts)}"
        f" UTC; lowest {_num(min(values))}, highest {_num(max(values))},"
        f" last {_num(values[-1])}{unit}."
    ]
    if finding := _window_finding(metric):
        assert finding.started_at is not None
        parts.append(
            f"Anomaly from {_hm(finding.started_at)} UTC ({finding.detector}):"
            f" {finding.sentence.rstrip('.')}."
        )
    if alert_started_at is not None:
        parts.append(f"Alert started at {_hm(alert_started_at)} UTC.")
    if verification is not None:
        verdict = "resolved" if verification.resolved else "not resolved"
        when = f" at {_hm(verification.at)} UTC" if verification.at else ""
        parts.append(f"Verification{when}: {verdict}, {verification.reason}.")
    return title, " ".join(parts)


# -- drawing ---------------------------------------------------------------------------------
def _draw(
    metric: MetricEvidence,
    alert_started_at: datetime | None,
    verification: VerificationMark | None,
    *,
    ink: str,
) -> Figure:
    mpl = _canvases()
    figure = mpl.figure(figsize=(5.6, 2.6))
    # fixed margins: a layout engine triples the drawing time
    figure.subplots_adjust(left=0.13, right=0.96, top=0.87, bottom=0.22)
    figure.patch.set_alpha(0.0)
    axes = figure.add_subplot()
    axes.patch.set_alpha(0.0)
    times = [mpl.x(p.ts) for p in metric.points]
    values = [p.value for p in metric.points]
    (line,) = axes.plot(times, values, color=LINE, linewidth=1.6, marker="o", markersize=2.8,
                        label=metric.name)  # fmt: skip
    line.set_gid(POINTS_ID)
    if (finding := _window_finding(metric)) and finding.started_at is not None:
        start = mpl.x(finding.started_at)
        axes.axvspan(start, times[-1] if times else start, color=ANOMALY, alpha=0.25, linewidth=0,
                     label="anomaly window").set_gid("anomaly-window")  # fmt: skip
    if alert_started_at is not None:
        axes.axvline(mpl.x(alert_started_at), color=ALERT, linestyle="--", linewidth=1.4,
                     label="alert started").set_gid("alert-start")  # fmt: skip
    if verification is not None and times:
        at = mpl.x(verification.at) if verification.at else times[-1]
        if not times[0] <= at <= times[-1]:
            # checked after the series ends (or on a replayed world's clock): drawn at its
            # right edge, not on an axis stretched to reach it; the <desc> gives the time
            at = times[-1]
        verdict = "verified: resolved" if verification.resolved else "verified: not resolved"
        axes.axvline(at, color=RESOLVED if verification.resolved else UNRESOLVED,
                     linestyle=":" if verification.resolved else "-.", linewidth=1.8,
                     label=verdict).set_gid("verification")  # fmt: skip
    axes.set_title(describe(metric, None, None)[0], color=ink, fontsize=11, loc="left")
    axes.set_xlabel("time (UTC)", color=ink, fontsize=10)
    axes.set_ylabel(metric.unit or "value", color=ink, fontsize=10)
    axes.xaxis.set_major_formatter(mpl.time_formatter(axes.xaxis))
    # 5.3G, not 5.3 under a "1e9" that collides with the title
    axes.yaxis.set_major_formatter(mpl.engineering())
    axes.tick_params(colors=ink, labelsize=9)
    for spine in axes.spines.values():
        spine.set_color(ink)
    axes.grid(True, color=ink, alpha=0.15, linewidth=0.6)
    legend = axes.legend(loc="best", fontsize=8, frameon=False, labelcolor=ink)
    legend.set_gid("legend")
    return figure


def _window_finding(metric: MetricEvidence) -> Any:
    """The strongest finding that says when it started: the anomaly window's left edge."""
    timed = [f for f in metric.findings if f.started_at is not None]
    return max(timed, key=lambda f: f.score, default=None)


# -- the SVG's text for people and its ids -----------------------------------------------------
_ID = re.compile(r'\bid="([^"]+)"')


def _prefix_ids(svg: str, prefix: str) -> str:
    ids = set(_ID.findall(svg))
    if not ids:
        return svg
    alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    svg = re.sub(rf'\bid="({alternatives})"', rf'id="{prefix}-\1"', svg)
    return re.sub(rf'#({alternatives})(?=["\)])', rf"#{prefix}-\1", svg)


def _label(svg: str, chart_id: str, title: str, desc: str) -> str:
    head_end = svg.index(">") + 1
    opening = svg[: head_end - 1]
    opening = re.sub(r'\s(width|height)="[^"]*"', "", opening)  # the page sizes it (CSS)
    labelled = (
        f'{opening} role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    return labelled + svg[head_end:]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hm(moment: datetime) -> str:
    return _utc(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _num(value: float) -> str:
    return f"{value:.4g}"


# -- matplotlib, imported on first use (the CLI starts without it) -----------------------------
_LOCK = threading.Lock()


class _Matplotlib:
    def __init__(self) -> None:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.backends.backend_svg import FigureCanvasSVG
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
        from matplotlib.figure import Figure
        from matplotlib.ticker import EngFormatter

        # text as <text>, and stable ids; set once, only ever these values
        matplotlib.rcParams["svg.fonttype"] = "none"
        matplotlib.rcParams["svg.hashsalt"] = "firstline"
        self._figure, self._agg, self._svg = Figure, FigureCanvasAgg, FigureCanvasSVG
        self._locator, self._formatter = AutoDateLocator, ConciseDateFormatter
        self._date2num, self._eng = date2num, EngFormatter

    def figure(self, **kwargs: Any) -> Figure:
        return self._figure(**kwargs)

    def svg(self, figure: Figure) -> Any:
        return self._svg(figure)

    def agg(self, figure: Figure) -> Any:
        return self._agg(figure)

    def engineering(self) -> Any:
        return self._eng(sep="")

    def x(self, moment: datetime) -> float:
        """A time as the axis' number (days since matplotlib's epoch)."""
        return float(self._date2num(_utc(moment)))  # type: ignore[no-untyped-call]

    def time_formatter(self, axis: Any) -> Any:
        locator = self._locator(tz=UTC)  # type: ignore[no-untyped-call]
        axis.set_major_locator(locator)
        return self._formatter(locator, tz=UTC)  # type: ignore[no-untyped-call]


_loaded: list[_Matplotlib] = []


def _canvases() -> _Matplotlib:
    with _IMPORT_LOCK:
        if not _loaded:
            _loaded.append(_Matplotlib())
        return _loaded[0]


_IMPORT_LOCK = threading.Lock()
