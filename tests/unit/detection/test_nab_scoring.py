"""NAB scoring on cases whose answer is known by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from firstline.detection.nab import (
    PROFILES,
    LabelledFile,
    load_corpus,
    probation_rows,
    scaled_sigmoid,
    score_corpus,
)

STANDARD = PROFILES["standard"]
NAB_DEV = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "nab-dev"

# two files of 1000 rows (probation 150); windows well after it
FILES = [
    LabelledFile("a.csv", 1000, ((400, 449), (700, 749))),
    LabelledFile("b.csv", 1000, ((500, 599),)),
    LabelledFile("quiet.csv", 1000, ()),
]


def scores_with(marks: dict[str, list[int]]) -> dict[str, np.ndarray]:
    out = {}
    for f in FILES:
        s = np.zeros(f.rows)
        s[marks.get(f.name, [])] = 1.0
        out[f.name] = s
    return out


def perfect() -> dict[str, np.ndarray]:
    return scores_with({f.name: [lo for lo, _ in f.windows] for f in FILES})


def test_sigmoid_is_the_published_curve() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(3.5) == -1.0
    assert probation_rows(1000) == 150 and probation_rows(10_000) == 750


@pytest.mark.parametrize("name", list(PROFILES))
def test_perfect_scores_100_and_null_0(name: str) -> None:
    assert score_corpus(FILES, perfect(), PROFILES[name]).normalized == pytest.approx(100.0)
    assert score_corpus(FILES, scores_with({}), PROFILES[name]).normalized == pytest.approx(0.0)


def test_earlier_detection_earns_more_and_later_ones_add_nothing() -> None:
    early = score_corpus(FILES, scores_with({"a.csv": [400]}), STANDARD).raw
    late = score_corpus(FILES, scores_with({"a.csv": [440]}), STANDARD).raw
    both = score_corpus(FILES, scores_with({"a.csv": [400, 440]}), STANDARD).raw
    assert early > late and both == pytest.approx(early)


def test_false_positive_costs_less_right_after_a_window() -> None:
    base = score_corpus(FILES, scores_with({"a.csv": [400]}), STANDARD, threshold=1.0).raw
    near = score_corpus(FILES, scores_with({"a.csv": [400, 452]}), STANDARD, threshold=1.0).raw
    far = score_corpus(FILES, scores_with({"a.csv": [400, 300]}), STANDARD, threshold=1.0).raw
    assert base - far == pytest.approx(0.11)  # no window before row 300: full fpWeight
    assert 0 < base - near < base - far


def test_probation_rows_are_ignored_and_threshold_is_optimised() -> None:
    noisy = scores_with({"quiet.csv": [10, 20, 30]})  # all inside probation
    assert score_corpus(FILES, noisy, STANDARD).normalized == pytest.approx(0.0)
    mixed = perfect()
    mixed["quiet.csv"][[300, 400, 500]] = 0.9  # false alarms below the hits' score
    best = score_corpus(FILES, mixed, STANDARD)
    assert best.threshold == 1.0 and best.normalized == pytest.approx(100.0)
    forced = score_corpus(FILES, mixed, STANDARD, threshold=0.9)
    assert forced.false_positives == 3 and forced.normalized < 100.0


@pytest.mark.skipif(not NAB_DEV.is_dir(), reason="NAB development data not present")
def test_real_corpus_perfect_and_null() -> None:
    corpus = load_corpus(NAB_DEV)
    labels = [f.labels for f in corpus]
    ideal = {}
    for f in corpus:
        s = np.zeros(f.labels.rows)
        s[[lo for lo, _ in f.labels.windows]] = 1.0
        ideal[f.labels.name] = s
    nothing = {f.labels.name: np.zeros(f.labels.rows) for f in corpus}
    assert score_corpus(labels, ideal, STANDARD).normalized == pytest.approx(100.0)
    assert score_corpus(labels, nothing, STANDARD).normalized == pytest.approx(0.0)
