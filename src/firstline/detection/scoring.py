"""Per-point scorers: one anomaly score in [0, 1] per row, causally (row t uses rows <= t).

`novelty` is firstline's detector (see novelty.py). Two peers are kept for comparison:
`article_baseline`, the article's rule scored per point, and `windowed_gaussian`, the
z-score of each value against the window before it (NAB's reference detector of that name).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from firstline.detection.novelty import novelty_scores
from firstline.errors import InvalidValue

Scorer = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


def _window_sums(
    values: NDArray[np.float64], starts: NDArray[np.int64], ends: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Count, sum and sum of squares of the finite values in rows [start, end), per row."""
    finite = np.isfinite(values)
    clean = np.where(finite, values, 0.0)
    # centring first keeps the sum of squares from cancelling catastrophically
    clean = np.where(finite, clean - (float(np.mean(clean[finite])) if finite.any() else 0.0), 0.0)
    zero = np.zeros(1)
    count = np.concatenate([zero, np.cumsum(finite.astype(np.float64))])
    total = np.concatenate([zero, np.cumsum(clean)])
    squares = np.concatenate([zero, np.cumsum(clean * clean)])
    return count[ends] - count[starts], total[ends] - total[starts], squares[ends] - squares[starts]


def article_scores(
    timestamps: NDArray[np.float64], values: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The article's rule at every row: mean of the last 5 minutes against the mean of the
    30 before. The relative change c becomes c / (c + 0.5), so the rule's line (a 50% change)
    is a score of 0.5 and larger changes still rank above smaller ones."""
    here = np.arange(len(values)) + 1
    recent = np.searchsorted(timestamps, timestamps - 300.0, side="right")
    history = np.searchsorted(timestamps, timestamps - 2100.0, side="right")
    n_now, s_now, _ = _window_sums(values, recent, here)
    n_base, s_base, _ = _window_sums(values, history, recent)
    offset = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        now = s_now / n_now + offset
        base = s_base / n_base + offset
        change = np.abs(now - base) / np.abs(base)
    change = np.where(base == 0, np.where(now == 0, 0.0, 1.0), change)
    ok = (n_now > 0) & (n_base > 0) & np.isfinite(values) & np.isfinite(change)
    return np.where(ok, change / (np.where(ok, change, 0.0) + 0.5), 0.0)


def windowed_gaussian_scores(
    timestamps: NDArray[np.float64], values: NDArray[np.float64], window: int = 6400
) -> NDArray[np.float64]:
    """erf(|z| / sqrt 2): how far into a normal fitted to the previous `window` rows."""
    del timestamps  # the window is counted in rows, as in NAB's reference detector
    idx = np.arange(len(values))
    n, s, ss = _window_sums(values, np.maximum(0, idx - window), idx)
    offset = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / n
        std = np.sqrt(np.maximum(ss / n - mean * mean, 0.0))
        z = np.abs(values - offset - mean) / std
    z = np.where((n >= 2) & (std > 0) & np.isfinite(z), z, 0.0)
    erf = np.frompyfunc(math.erf, 1, 1)
    return np.asarray(erf(z / math.sqrt(2.0)), dtype=np.float64)


SCORERS: dict[str, Scorer] = {
    "novelty": novelty_scores,
    "article_baseline": article_scores,
    "windowed_gaussian": windowed_gaussian_scores,
}


def get_scorer(name: str) -> Scorer:
    try:
        return SCORERS[name]
    except KeyError:
        raise InvalidValue(
            f"no per-point scores for detector {name!r}; choose from {', '.join(SCORERS)}"
        ) from None
