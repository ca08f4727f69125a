"""The evidence-facing detectors: the protocol, names, and the novelty detector's sentence."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from firstline.detection.detectors import DETECTORS, get_detector
from firstline.domain.evidence import MetricPoint

T0 = datetime(2026, 1, 1, 13, 30, tzinfo=UTC)


def points(values: list[float]) -> list[MetricPoint]:
    return [MetricPoint(ts=T0 + timedelta(minutes=i), value=v) for i, v in enumerate(values)]


def noisy(n: int, level: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [level * (1 + rng.gauss(0, 0.05)) for _ in range(n)]


def test_names_and_unknown() -> None:
    assert {"article_baseline", "robust_shift", "novelty"} <= set(DETECTORS)
    with pytest.raises(ValueError, match="unknown detector"):
        get_detector("nope")


def test_latency_jump_reads_like_a_person_wrote_it() -> None:
    finding = get_detector("novelty").assess(
        points(noisy(32, 0.12, 1) + noisy(28, 0.9, 2)), "seconds"
    )
    assert finding is not None and finding.direction == "up" and finding.score >= 0.5
    assert finding.started_at == T0 + timedelta(minutes=32)
    assert finding.sentence.startswith("rose from ~1")
    assert (
        "ms to ~" in finding.sentence
        and "from 14:02, far outside its usual range" in finding.sentence
    )


def test_recovered_noise_flat_and_short_series_give_no_finding() -> None:
    novelty = get_detector("novelty")
    recovered = noisy(30, 100, 1) + noisy(5, 500, 2) + noisy(25, 100, 3)
    assert novelty.assess(points(recovered)) is None
    assert novelty.assess(points(noisy(60, 100, 4))) is None
    assert novelty.assess(points([5.0] * 60)) is None
    assert novelty.assess(points([1.0, 2.0])) is None


def test_a_drop_is_reported_down() -> None:
    finding = get_detector("novelty").assess(points(noisy(40, 200, 5) + noisy(20, 20, 6)), "")
    assert finding is not None and finding.direction == "down" and "fell" in finding.sentence
