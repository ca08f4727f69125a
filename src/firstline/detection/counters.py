"""Counters: series that only grow, except when the process restarts and they reset to zero.

Scored as they are, a counter is a ramp (never novel, whatever its rate does) with a cliff at
each restart (always novel, though nothing but the restart happened). What a person watches is
its rate, so `detect` scores the increase per second, with Prometheus' rule for a reset: a
value below the one before is counted as growth from zero. Recognising a counter needs the
whole file (the CLI reads it all anyway); the rule is deliberately strict so that a gauge is
never taken for one:

- no negative values; at least 10 finite samples;
- at least half of the steps go up (a mostly flat gauge that drops once is not a counter);
- decreases are rare (at most 1% of the steps, at least one allowed), and each lands below
  half of the value before it, as a restart does; a gauge's dips land near where it was.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

MIN_SAMPLES = 10


def looks_like_counter(values: NDArray[np.float64]) -> bool:
    clean = values[np.isfinite(values)]
    if len(clean) < MIN_SAMPLES or float(clean.min()) < 0:
        return False
    steps = np.diff(clean)
    down = np.flatnonzero(steps < 0)
    if np.mean(steps > 0) < 0.5 or len(down) > max(1, int(0.01 * len(steps))):
        return False
    return bool(np.all(clean[down + 1] < 0.5 * clean[down]))


def counter_rate(
    timestamps: NDArray[np.float64], values: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Increase per second since the previous finite sample; a reset counts from zero. The first
    sample, gaps and repeated timestamps have no rate (NaN, scored as gaps)."""
    out = np.full(len(values), np.nan)
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) < 2:
        return out
    now, before = values[finite[1:]], values[finite[:-1]]
    increase = np.where(now >= before, now - before, now)
    elapsed = timestamps[finite[1:]] - timestamps[finite[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(elapsed > 0, increase / elapsed, np.nan)
    out[finite[1:]] = rate
    return out
