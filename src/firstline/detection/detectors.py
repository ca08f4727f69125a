"""Detectors that judge a whole series for evidence: "is this metric anomalous now?".

`article_baseline` is the rule this project grew from: the last 5 minutes deviate more than
50% from the previous 30. It is kept, by name, as the baseline others are measured against.
`robust_shift` compares the recent window to the earlier window with a median/MAD z-score,
which ignores noise that the percentage rule fires on and catches slow ramps it misses.
`novelty` runs the per-point envelope detector (novelty.py), dates the change behind its
alarm with a change point, and reports only while the series is still away from where it was.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

import numpy as np

from firstline.detection.changepoint import onset
from firstline.detection.novelty import ALARM, novelty_scores
from firstline.domain.evidence import AnomalyFinding, MetricPoint
from firstline.domain.units import format_value
from firstline.errors import InvalidValue


class Detector(Protocol):
    name: str

    def assess(self, points: Sequence[MetricPoint], unit: str = "") -> AnomalyFinding | None: ...


def _split(
    points: Sequence[MetricPoint], recent: timedelta, history: timedelta
) -> tuple[list[float], list[float], MetricPoint | None]:
    if not points:
        return [], [], None
    end = points[-1].ts
    cut = end - recent
    before = [p.value for p in points if cut - history <= p.ts < cut]
    after_points = [p for p in points if p.ts >= cut]
    return before, [p.value for p in after_points], (after_points[0] if after_points else None)


class ArticleBaseline:
    """Last 5 minutes vs the previous 30: anomalous when the means differ by more than 50%."""

    name = "article_baseline"

    def assess(self, points: Sequence[MetricPoint], unit: str = "") -> AnomalyFinding | None:
        before, after, first = _split(points, timedelta(minutes=5), timedelta(minutes=30))
        if not before or not after:
            return None
        base, now = statistics.fmean(before), statistics.fmean(after)
        change = abs(now - base) / abs(base) if base else (1.0 if now else 0.0)
        score = min(1.0, change / 1.0)
        if change <= 0.5:
            return None
        return AnomalyFinding(
            detector=self.name,
            score=max(0.5, score),
            started_at=first.ts if first else None,
            direction="up" if now > base else "down",
            baseline=base,
            current=now,
            sentence=f"moved from ~{format_value(base, unit)} to ~{format_value(now, unit)} in the last 5 minutes",
        )


class RobustShift:
    """Median/MAD z-score of the recent window against the history before it."""

    name = "robust_shift"

    def __init__(self, recent_minutes: float = 10, history_minutes: float = 50) -> None:
        self.recent = timedelta(minutes=recent_minutes)
        self.history = timedelta(minutes=history_minutes)

    def assess(self, points: Sequence[MetricPoint], unit: str = "") -> AnomalyFinding | None:
        before, after, first = _split(points, self.recent, self.history)
        if len(before) < 5 or not after:
            return None
        base = statistics.median(before)
        spread = statistics.median(abs(v - base) for v in before) * 1.4826
        # a flat history must not make every wiggle huge: floor the spread by the level
        # and by the series' own scale
        scale = max(abs(p.value) for p in points)
        floor = max(abs(base) * 0.05, scale * 0.01, 1e-9)
        now = statistics.median(after[-max(1, len(after) // 2) :])
        z = abs(now - base) / max(spread, floor)
        if z < 4:
            return None
        score = min(1.0, 0.5 + (z - 4) / 16)
        start = next(
            (
                p.ts
                for p in points
                if first
                and p.ts >= first.ts - self.recent
                and abs(p.value - base) > 3 * max(spread, floor)
            ),
            first.ts if first else None,
        )
        word = "rose" if now > base else "fell"
        return AnomalyFinding(
            detector=self.name,
            score=round(score, 3),
            started_at=start,
            direction="up" if now > base else "down",
            baseline=base,
            current=now,
            sentence=(
                f"{word} from ~{format_value(base, unit)} to ~{format_value(now, unit)}"
                + (f" from {start:%H:%M}" if start else "")
                + (f", {z:.0f}x its usual spread" if z < 100 else ", far outside its usual range")
            ),
        )


class Novelty:
    """Envelope novelty per point; a finding while the level that raised the alarm persists."""

    name = "novelty"

    def __init__(self, min_points: int = 12, min_shift: float = 4.0) -> None:
        self.min_points = min_points
        self.min_shift = min_shift  # in units of the spread before the change

    def assess(self, points: Sequence[MetricPoint], unit: str = "") -> AnomalyFinding | None:
        if len(points) < self.min_points:
            return None
        stamps = np.array([p.ts.timestamp() for p in points])
        values = np.array([p.value for p in points], dtype=np.float64)
        if not np.isfinite(values).all():
            return None
        alarms = np.flatnonzero(novelty_scores(stamps, values) >= ALARM)
        if len(alarms) == 0:
            return None
        first_alarm = int(alarms[-1])
        start = onset(values, first_alarm)
        start = first_alarm if start is None or start < 3 else start
        before, recent = values[:start], values[-max(3, (len(values) - start) // 2) :]
        base, now = float(np.median(before)), float(np.median(recent))
        spread = 1.4826 * float(np.median(np.abs(before - base)))
        floor = max(abs(base) * 0.05, float(np.max(np.abs(values))) * 0.01, 1e-9)
        shift = abs(now - base) / max(spread, floor)
        if shift < self.min_shift:
            return None  # the alarm was a blip, or the series has come back
        began = points[start].ts
        word = "rose" if now > base else "fell"
        size = f", {shift:.0f}x its usual spread" if shift < 20 else ", far outside its usual range"
        return AnomalyFinding(
            detector=self.name,
            score=round(min(1.0, 0.5 + (shift - self.min_shift) / 32), 3),
            started_at=began,
            direction="up" if now > base else "down",
            baseline=base,
            current=now,
            sentence=f"{word} from ~{format_value(base, unit)} to ~{format_value(now, unit)} from {began:%H:%M}{size}",
        )


DETECTORS: dict[str, Detector] = {d.name: d for d in (ArticleBaseline(), RobustShift(), Novelty())}


def get_detector(name: str) -> Detector:
    try:
        return DETECTORS[name]
    except KeyError:
        raise InvalidValue(
            f"unknown detector {name!r}; choose from {', '.join(DETECTORS)}"
        ) from None
