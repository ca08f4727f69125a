"""Change points: "when did it start".

A mean-shift split found with cumulative sums (the CUSUM statistic), applied recursively
(binary segmentation). A split is kept only when the shift it explains is large against the
series' own noise, measured on first differences so that the shift itself does not inflate
the noise estimate.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

# a split must beat this many noise units times sqrt(2 log n), the size the largest of n
# pure-noise CUSUM values reaches
DEFAULT_PENALTY = 2.0


def noise_scale(values: NDArray[np.float64]) -> float:
    """Robust standard deviation of the noise, from the MAD of first differences."""
    if len(values) < 3:
        return 0.0
    diffs = np.diff(values)
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    # differences of iid noise have sqrt(2) times its spread; 1.4826 turns a MAD into a sigma
    return 1.4826 * mad / math.sqrt(2.0)


def best_split(values: NDArray[np.float64]) -> tuple[int, float]:
    """The index where a single mean shift best splits `values`, and its CUSUM statistic
    (shift size x sqrt(n1 n2 / n)); (0, 0.0) when there is nothing to split."""
    n = len(values)
    if n < 2:
        return 0, 0.0
    centred = values - values.mean()
    sums = np.cumsum(centred)[:-1]
    left = np.arange(1, n, dtype=np.float64)
    # |sum of the first k centred values| * sqrt(n / (k (n - k))) is the two-sample statistic
    stat = np.abs(sums) * np.sqrt(n / (left * (n - left)))
    k = int(np.argmax(stat))
    return k + 1, float(stat[k])


def change_points(
    values: NDArray[np.float64], penalty: float = DEFAULT_PENALTY, min_size: int = 3
) -> list[int]:
    """Indices where the mean changes (each the first row of a new segment), in order.
    NaN rows are ignored for the fit and never returned."""
    finite = np.flatnonzero(np.isfinite(values))
    clean = values[finite]
    sigma = noise_scale(clean)
    if len(clean) < 2 * min_size:
        return []
    sigma = max(sigma, 1e-9 * max(1.0, float(np.max(np.abs(clean)))))
    found: list[int] = []
    stack = [(0, len(clean))]
    while stack:
        lo, hi = stack.pop()
        if hi - lo < 2 * min_size:
            continue
        k, stat = best_split(clean[lo:hi])
        limit = penalty * sigma * math.sqrt(2.0 * math.log(hi - lo))
        if stat <= limit or k < min_size or hi - lo - k < min_size:
            continue
        found.append(lo + k)
        stack += [(lo, lo + k), (lo + k, hi)]
    return sorted(int(finite[i]) for i in found)


def onset(values: NDArray[np.float64], before: int, penalty: float = DEFAULT_PENALTY) -> int | None:
    """The last change point at or before row `before`: when the trouble seen there began.
    The whole series is fitted, so a shift just before `before` still has its second half."""
    points = [p for p in change_points(values, penalty) if p <= before]
    return points[-1] if points else None
