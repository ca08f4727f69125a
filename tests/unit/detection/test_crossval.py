"""Leave-one-category-out: a choice fitted to some categories is scored on another."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firstline.detection.crossval import leave_one_category_out
from firstline.detection.nab import PROFILES, LabelledFile, load_corpus
from firstline.detection.novelty import novelty_scores

NAB_DEV = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "nab-dev"
STANDARD = PROFILES["standard"]


def files() -> list[LabelledFile]:
    return [LabelledFile(f"{cat}/{i}.csv", 1000, ((500, 520),)) for cat in "abc" for i in range(2)]


def hits(at: int) -> np.ndarray:
    out = np.zeros(1000)
    out[at] = 1.0
    return out


def test_a_setting_that_only_fits_the_training_categories_is_caught() -> None:
    corpus = files()
    # "lucky" hits every window in categories a and b but fires far from c's; "plain" hits
    # every window a little late
    lucky = {f.name: hits(500 if not f.name.startswith("c") else 300) for f in corpus}
    plain = {f.name: hits(510) for f in corpus}
    cv = leave_one_category_out(corpus, {"lucky": lucky, "plain": plain}, STANDARD)
    by_fold = {f.held_out: f for f in cv.folds}
    assert by_fold["c"].candidate == "lucky"  # chosen on a and b, where it is perfect
    assert by_fold["c"].normalized is not None and by_fold["c"].normalized < 0
    assert by_fold["a"].candidate == "plain"  # c's misses count against lucky in training
    assert cv.pooled < cv.in_sample


def test_perfect_scores_are_100_in_and_out_of_sample() -> None:
    corpus = files()
    perfect = {f.name: hits(500) for f in corpus}
    cv = leave_one_category_out(corpus, {"p": perfect}, STANDARD)
    assert cv.in_sample == pytest.approx(100) and cv.pooled == pytest.approx(100)
    assert cv.spread == pytest.approx((100, 100, 100))


@pytest.mark.skipif(not NAB_DEV.is_dir(), reason=f"NAB development data not at {NAB_DEV}")
def test_novelty_holds_at_least_70_on_held_out_categories() -> None:
    corpus = load_corpus(NAB_DEV)
    scores = {f.labels.name: novelty_scores(f.timestamps, f.values) for f in corpus}
    cv = leave_one_category_out([f.labels for f in corpus], {"defaults": scores}, STANDARD)
    assert len(cv.folds) == 4
    assert cv.pooled >= 70.0
    assert cv.pooled <= cv.in_sample + 1e-9
