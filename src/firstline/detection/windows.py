"""Anomaly windows: alarms close together in time become one window a person can read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Window:
    start: float  # unix seconds of the first alarm
    end: float  # ... and of the last one
    peak: float
    rows: int  # alarm rows inside


def anomaly_windows(
    timestamps: NDArray[np.float64],
    scores: NDArray[np.float64],
    threshold: float,
    merge_samples: int = 12,
) -> list[Window]:
    """Rows scoring >= `threshold`, grouped while fewer than `merge_samples` rows separate
    them (the novelty detector's refractory span, so one event stays one window)."""
    alarms = np.flatnonzero(scores >= threshold)
    windows: list[Window] = []
    group: list[int] = []
    for idx in alarms.tolist():
        if group and idx - group[-1] > merge_samples:
            windows.append(_window(timestamps, scores, group))
            group = []
        group.append(idx)
    if group:
        windows.append(_window(timestamps, scores, group))
    return windows


def _window(
    timestamps: NDArray[np.float64], scores: NDArray[np.float64], rows: list[int]
) -> Window:
    return Window(
        start=float(timestamps[rows[0]]),
        end=float(timestamps[rows[-1]]),
        peak=float(np.max(scores[rows])),
        rows=len(rows),
    )
