"""Leave-one-category-out cross-validation of a detector on NAB-style corpora.

The in-sample score lets the threshold (and any parameter) see the files it is scored on, which
a user never can. Here each category in turn is held out: the parameters and the threshold that
score best on the other categories are kept and the held-out category is scored with them. The
held-out raw scores add up to one corpus total, normalised like NAB's (null 0, perfect 100),
so it sits beside the in-sample score on the same scale. Per fold, the held-out category's own
normalised score shows the spread (a category without windows, such as artificialNoAnomaly,
has no normalised score of its own: only its false-positive cost, its raw score, counts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from firstline.detection.nab import LabelledFile, Profile, score_corpus

Scores = Mapping[str, NDArray[np.float64]]  # file name -> one score per row


def category(name: str) -> str:
    return name.split("/", 1)[0]


@dataclass(frozen=True)
class Fold:
    held_out: str
    files: int
    windows: int
    candidate: str  # the parameters chosen on the other categories
    threshold: float
    raw: float
    normalized: float | None  # None for a category without windows


@dataclass(frozen=True)
class CrossValidation:
    profile: str
    in_sample: float  # best candidate and threshold chosen on all files
    in_sample_candidate: str
    pooled: float  # the held-out raw scores, normalised over the whole corpus
    folds: tuple[Fold, ...]

    @property
    def spread(self) -> tuple[float, float, float]:
        """Lowest, median and highest per-category held-out normalised score."""
        values = [f.normalized for f in self.folds if f.normalized is not None]
        return min(values), float(np.median(values)), max(values)


def _best(
    files: Sequence[LabelledFile], candidates: Mapping[str, Scores], profile: Profile
) -> tuple[str, float, float]:
    """The candidate and threshold with the highest raw score on `files` (ties: first)."""
    best: tuple[str, float, float] | None = None
    for name, scores in candidates.items():
        result = score_corpus(files, scores, profile)
        if best is None or result.raw > best[2]:
            best = (name, result.threshold, result.raw)
    assert best is not None, "no candidates"
    return best


def _bounds(files: Sequence[LabelledFile], profile: Profile) -> tuple[float, float]:
    """The null and perfect raw totals of `files` (what 0 and 100 mean)."""
    empty = {f.name: np.zeros(f.rows) for f in files}
    null = score_corpus(files, empty, profile, threshold=1.0).raw
    perfect = profile.tp_weight * sum(len(f.windows) for f in files)
    return null, perfect


def leave_one_category_out(
    files: Sequence[LabelledFile], candidates: Mapping[str, Scores], profile: Profile
) -> CrossValidation:
    """`candidates`: per parameter setting, the scores it gives every file."""
    chosen, _, in_raw = _best(files, candidates, profile)
    null, perfect = _bounds(files, profile)
    folds = []
    for held in sorted({category(f.name) for f in files}):
        train = [f for f in files if category(f.name) != held]
        test = [f for f in files if category(f.name) == held]
        name, threshold, _ = _best(train, candidates, profile)
        result = score_corpus(test, candidates[name], profile, threshold)
        windows = sum(len(f.windows) for f in test)
        folds.append(
            Fold(
                held,
                len(test),
                windows,
                name,
                threshold,
                result.raw,
                result.normalized if windows else None,
            )
        )
    pooled_raw = sum(f.raw for f in folds)
    return CrossValidation(
        profile=profile.name,
        in_sample=100.0 * (in_raw - null) / (perfect - null),
        in_sample_candidate=chosen,
        pooled=100.0 * (pooled_raw - null) / (perfect - null),
        folds=tuple(folds),
    )
