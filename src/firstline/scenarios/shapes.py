"""Turns a Shape into points. Deterministic: the same seed gives the same series."""

from __future__ import annotations

import random
from datetime import datetime

from firstline.domain.evidence import MetricPoint
from firstline.errors import InvalidValue
from firstline.scenarios.format import Change, SeriesSpec, Shape
from firstline.scenarios.times import parse_duration, resolve_time


def _level(change: Change, t: datetime, level: float, now: datetime) -> float:
    at = resolve_time(change.at, now)
    if t < at:
        return level
    if change.kind == "step":
        return change.to
    until = resolve_time(change.until, now) if change.until else None
    if change.kind == "spike":
        return change.to if until is None or t <= until else level
    # ramp: linear from the current level to `to`, reached at `until` (or at once)
    if until is None or t >= until:
        return change.to
    fraction = (t - at) / (until - at)
    return level + (change.to - level) * fraction


def render_shape(shape: Shape, now: datetime) -> list[MetricPoint]:
    start = resolve_time(shape.start, now)
    end = resolve_time(shape.end, now)
    step = parse_duration(shape.step)
    if step.total_seconds() <= 0:
        raise InvalidValue("shape step must be positive")
    rng = random.Random(shape.seed)
    points: list[MetricPoint] = []
    t = start
    while t <= end and len(points) < 100_000:
        level = shape.base
        for change in shape.changes:
            level = _level(change, t, level, now)
        jitter = rng.gauss(0.0, shape.noise) if shape.noise else 0.0
        points.append(MetricPoint(ts=t, value=max(0.0, level * (1.0 + jitter))))
        t += step
    return points


def render_series(spec: SeriesSpec, now: datetime) -> list[MetricPoint]:
    if spec.points is not None:
        return [MetricPoint(ts=resolve_time(ts, now), value=v) for ts, v in spec.points]
    if spec.shape is not None:
        return render_shape(spec.shape, now)
    raise InvalidValue("a series needs either `points` or `shape`")
