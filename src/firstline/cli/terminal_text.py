"""Facts made narrow for an 80-column terminal without losing them: a metric as a
sparkline with its last value, and container images as `name:tag` (the registry and
path go, the tag that tells two revisions apart stays)."""

from __future__ import annotations

import re

from firstline.domain.evidence import MetricEvidence
from firstline.domain.units import format_value

BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 16

# registry/path/name followed by a tag and/or a digest: at least one "/" before the name,
# so that deployment/ns/name (no tag) and host:port (no path) are left alone
_IMAGE = re.compile(
    r"(?<![\w./-])(?:[\w.-]+(?::\d+)?/)+(?P<name>[\w.-]+)"
    r"(?P<tag>:[\w][\w.-]{0,127})?(?P<digest>@sha256:[0-9a-f]{7})?(?:[0-9a-f]*)"
)


def short_images(text: str) -> str:
    """`registry.example.com/catalog/search-api:5.9.0` -> `search-api:5.9.0`; a digest
    keeps its first 7 hex digits. References without a tag or digest are unchanged."""

    def shorten(match: re.Match[str]) -> str:
        if not match["tag"] and not match["digest"]:
            return match[0]
        return match["name"] + (match["tag"] or "") + (match["digest"] or "")

    return _IMAGE.sub(shorten, text)


def sparkline(values: list[float], width: int = SPARK_WIDTH) -> str:
    """The series in `width` bars at most (each the mean of its stretch of points), scaled
    from its own minimum to its maximum; a flat series is a row of the lowest bar."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [
            sum(chunk) / len(chunk)
            for i in range(width)
            if (chunk := values[int(i * step) : int((i + 1) * step)] or values[-1:])
        ]
    low, high = min(values), max(values)
    span = high - low
    if span <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, int((v - low) / span * len(BARS)))] for v in values)


def metric_line(metric: MetricEvidence) -> str:
    """`error_rate ▁▁▁▂▇██ 7.2%`: the name, the shape, the last value with its unit."""
    values = [p.value for p in metric.points]
    last = format_value(values[-1], metric.unit) if values else "no data"
    return f"{metric.name} {sparkline(values)} {last}"
