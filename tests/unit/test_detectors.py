"""The foundation's detectors: the article's baseline rule and the robust shift detector."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from firstline.detection.detectors import ArticleBaseline, RobustShift
from firstline.domain.evidence import MetricPoint

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def series(values: list[float]) -> list[MetricPoint]:
    return [MetricPoint(ts=T0 + timedelta(minutes=i), value=v) for i, v in enumerate(values)]


def noisy(n: int, level: float, spread: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [level * (1 + rng.gauss(0, spread)) for _ in range(n)]


def test_robust_shift_finds_a_level_shift_and_says_when() -> None:
    values = noisy(50, 100, 0.03, 1) + noisy(11, 400, 0.03, 2)
    finding = RobustShift().assess(series(values), "")
    assert finding is not None and finding.direction == "up" and finding.score >= 0.5
    assert finding.started_at is not None
    assert abs(finding.started_at - (T0 + timedelta(minutes=50))) <= timedelta(minutes=1)
    assert "rose" in finding.sentence


def test_robust_shift_ignores_noise_the_article_rule_fires_on() -> None:
    rng = random.Random(7)
    # a bursty but stationary series: mean ~10, individual points swing widely
    values = [max(0.0, 10 + rng.gauss(0, 6)) for _ in range(61)]
    values[-5:] = [22, 19, 24, 18, 21]  # a burst the 50% rule calls an anomaly
    assert ArticleBaseline().assess(series(values)) is not None
    assert RobustShift().assess(series(values)) is None


def test_no_finding_on_flat_or_short_series() -> None:
    assert RobustShift().assess(series([5.0] * 61)) is None
    assert RobustShift().assess(series([1.0, 2.0])) is None
    assert ArticleBaseline().assess(series([])) is None
