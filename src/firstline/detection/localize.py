"""Root-cause localisation: which component started the trouble, and which metric says so.

Each metric is compared with its own quiet past (median and robust spread before the look-back
window). A deviation counts when it is sustained (a rolling median of three samples stays
beyond the line), which drops one-sample blips; its *onset* is the first sustained crossing.
Faults propagate to callers with a delay, and a caller whose latency is quieter than the
origin's can show a larger z-score, so the ranking leans on time first: components are scored
by how early their deviation began relative to the earliest one seen, times how strong and how
lasting it is. The metric with the best score decides, and is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from firstline.detection.inputs import read_input
from firstline.detection.series import SeriesError


@dataclass(frozen=True)
class Component:
    name: str
    timestamps: NDArray[np.float64]
    metrics: Mapping[str, NDArray[np.float64]]


@dataclass(frozen=True)
class Suspect:
    component: str
    score: float
    metric: str | None
    onset: float | None
    shift: float
    baseline: float | None
    peak: float | None


@dataclass(frozen=True)
class _Deviation:
    metric: str
    onset: float
    shift: float  # signed, in robust-spread units beyond the quiet range
    persistence: float  # share of samples after the onset that stay beyond the line
    baseline: float
    peak: float
    change: float  # median since the onset minus the baseline, in the metric's own unit


LINE = 4.0  # a sustained deviation must pass this many robust spreads
LASTING = 0.6  # ...and stay beyond half of that for this share of the time since
PROGRESS_FILES = 20  # folders with at least this many components report progress


def load_components(
    directory: Path,
    progress: Callable[[str], None] | None = None,
    suffixes: tuple[str, ...] = (".csv", ".json"),
) -> list[Component]:
    """One CSV or Prometheus range-query JSON per component: the file name without its
    suffix is the component. `progress` hears about every 10th file of a large folder."""
    if not directory.is_dir():
        raise SeriesError(f"{directory}: not a directory")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in suffixes and p.is_file())
    if not files:
        raise SeriesError(f"{directory}: no .csv or .json files (one per component expected)")
    out = []
    for i, path in enumerate(files):
        table = read_input(path, min_rows=2)
        out.append(Component(path.stem, table.timestamps, table.columns))
        if progress is not None and len(files) >= PROGRESS_FILES and (i + 1) % 10 == 0:
            progress(f"read {i + 1}/{len(files)} components")
    return out


def _robust(values: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """Median, robust spread, and the quiet range (1st-99th percentile): a daily or hourly
    cycle moves a metric inside its range, which is no deviation."""
    base = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - base)))
    # a flat metric would make every wiggle infinite; floor by its level and its step noise
    steps = np.abs(np.diff(values))
    noise = float(np.median(steps)) if len(steps) else 0.0
    low, high = np.percentile(values, [1.0, 99.0])
    return base, max(spread, noise, abs(base) * 0.01, 1e-9), float(low), float(high)


def _deviation(
    metric: str,
    stamps: NDArray[np.float64],
    values: NDArray[np.float64],
    at: float,
    lookback: float,
) -> _Deviation | None:
    ok = np.isfinite(values)
    stamps, values = stamps[ok], values[ok]
    quiet = stamps < at - lookback
    if quiet.sum() < 5:
        # too little history before the window: use the first half of what precedes `at`
        prior = np.flatnonzero(stamps < at)
        quiet = np.zeros(len(stamps), dtype=bool)
        quiet[prior[: len(prior) // 2]] = True
        if quiet.sum() < 5:
            return None
    base, spread, low, high = _robust(values[quiet])
    window = np.flatnonzero(~quiet & (stamps >= at - lookback))
    if len(window) < 3:
        return None
    seen = values[window]
    z = (np.maximum(seen - high, 0.0) + np.minimum(seen - low, 0.0)) / spread
    # median of five: a burst of one or two samples cannot make a deviation on its own
    padded = np.concatenate([z[:1], z[:1], z, z[-1:], z[-1:]])
    smooth = np.median(np.stack([padded[k : k + len(z)] for k in range(5)]), axis=0)
    beyond = np.abs(smooth) >= LINE
    if not beyond.any():
        return None
    first = int(np.argmax(beyond))
    after = smooth[first:]
    strongest = int(np.argmax(np.abs(after)))
    return _Deviation(
        metric=metric,
        onset=float(stamps[window[first]]),
        shift=float(after[strongest]),
        persistence=float(np.mean(np.abs(after) >= LINE / 2)),
        baseline=base,
        peak=float(values[window[first + strongest]]),
        change=float(np.median(seen[first:])) - base,
    )


def localize(
    components: Sequence[Component],
    at: float,
    lookback: float = 1800.0,
    pace: float = 120.0,
    dilution: bool = True,
) -> list[Suspect]:
    """Rank `components` by how likely each is the origin of an incident noticed at `at`
    (unix seconds). `lookback`: how long before `at` the trouble may have begun; `pace`: the
    seconds over which a later onset halves a component's score; `dilution`: use the size of
    a move against the same metric elsewhere (off, only timing and strength decide)."""
    found: dict[str, list[_Deviation]] = {}
    for comp in components:
        found[comp.name] = [
            dev
            for metric, values in comp.metrics.items()
            if (dev := _deviation(metric, comp.timestamps, values, at, lookback)) is not None
        ]
    # the clock starts at the earliest deviation that lasts; a burst that came and went
    # before the incident must not make every real one look late
    onsets = [d.onset for devs in found.values() for d in devs if d.persistence >= LASTING]
    earliest = min(onsets) if onsets else at
    # an effect passed on to callers is diluted (only some of their requests reach the
    # origin), so among components whose same-named metric moved, the largest move in the
    # metric's own unit points at the origin
    largest: dict[str, float] = {}
    for devs in found.values():
        for d in devs:
            largest[d.metric] = max(largest.get(d.metric, 0.0), abs(d.change))
    suspects = []
    for comp in components:
        best: tuple[float, _Deviation | None] = (0.0, None)
        for dev in found[comp.name]:
            strength = abs(dev.shift) / (abs(dev.shift) + 4 * LINE)
            lateness = min(1.0, 0.5 ** ((dev.onset - earliest) / pace))
            share = abs(dev.change) / largest[dev.metric] if largest[dev.metric] > 0 else 1.0
            share = share if dilution else 1.0
            score = strength * lateness * dev.persistence**2 * share
            if score > best[0]:
                best = (score, dev)
        top, chosen = best
        suspects.append(
            Suspect(
                component=comp.name,
                score=round(top, 4),
                metric=chosen.metric if chosen else None,
                onset=chosen.onset if chosen else None,
                shift=round(chosen.shift, 2) if chosen else 0.0,
                baseline=chosen.baseline if chosen else None,
                peak=chosen.peak if chosen else None,
            )
        )
    return sorted(suspects, key=lambda s: (-s.score, s.component))


def largest_z(components: Sequence[Component], at: float, lookback: float = 1800.0) -> list[str]:
    """The baseline ranking: components by their single largest |z| in the window."""
    scores = {}
    for comp in components:
        best = 0.0
        for values in comp.metrics.values():
            ok = np.isfinite(values)
            stamps, clean = comp.timestamps[ok], values[ok]
            quiet = clean[stamps < at - lookback]
            window = clean[(stamps >= at - lookback)]
            if len(quiet) < 5 or not len(window):
                continue
            mean, std = float(np.mean(quiet)), float(np.std(quiet)) or 1e-9
            best = max(best, float(np.max(np.abs(window - mean))) / std)
        scores[comp.name] = best
    return sorted(scores, key=lambda name: (-scores[name], name))
