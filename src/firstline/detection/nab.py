"""NAB scoring, written from the benchmark's published rules (see docs/detection.md).

Per file, every row gets a *sweep score*: inside a labelled window, the reward a detection
there would earn (tpWeight x a scaled sigmoid of its position, +1 at the window's first row);
outside, the cost a detection would pay (fpWeight x the sigmoid of its distance past the end
of the preceding window, -fpWeight when there is none). Rows in the probation period are
ignored. One threshold is chosen for the whole corpus, the one that maximises the total; the
total is then normalised so that the null detector scores 0 and the perfect one 100.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from firstline.detection.series import parse_timestamp, read_table

PROBATION_FRACTION = 0.15
PROBATION_CAP = 750  # NAB: probationPercent * 5000 rows


@dataclass(frozen=True)
class Profile:
    name: str
    tp_weight: float
    fn_weight: float
    fp_weight: float


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", 1.0, 1.0, 0.11),
    "reward_low_FP": Profile("reward_low_FP", 1.0, 1.0, 0.22),
    "reward_low_FN": Profile("reward_low_FN", 1.0, 2.0, 0.11),
}


@dataclass(frozen=True)
class LabelledFile:
    """One NAB file: its row count and its windows as inclusive row-index ranges."""

    name: str
    rows: int
    windows: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class CorpusScore:
    profile: str
    threshold: float
    raw: float
    normalized: float
    detected_windows: int
    windows: int
    false_positives: int


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: 2*sigmoid(-5x) - 1, and -1 once a detection is far (x > 3) past."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(rows: int) -> int:
    return min(math.floor(PROBATION_FRACTION * rows), PROBATION_CAP)


def windows_to_rows(
    timestamps: NDArray[np.float64], windows: Sequence[tuple[float, float]]
) -> tuple[tuple[int, int], ...]:
    """Map [start, end] times (inclusive) onto the first and last rows they cover. Times are
    as written, so after a clock step they need not be sorted: a window runs from the first
    row inside it to the last one, as NAB's labeller takes it."""
    out: list[tuple[int, int]] = []
    for start, end in windows:
        inside = np.flatnonzero((timestamps >= start) & (timestamps <= end))
        if len(inside):
            out.append((int(inside[0]), int(inside[-1])))
    return tuple(out)


@dataclass(frozen=True)
class _Sweep:
    """Per-row sweep scores of one file; `window` is -1 outside windows and -2 in probation."""

    reward: NDArray[np.float64]
    window: NDArray[np.int64]


def _sweep(file: LabelledFile, profile: Profile) -> _Sweep:
    n = file.rows
    reward = np.empty(n)
    window = np.full(n, -1, dtype=np.int64)
    max_tp = scaled_sigmoid(-1.0)
    prev_right: int | None = None
    prev_width = 0.0
    cursor = 0
    for w, (lo, hi) in enumerate(file.windows):
        width = float(hi - lo + 1)
        for i in range(cursor, lo):
            reward[i] = profile.fp_weight * _fp_position(i, prev_right, prev_width)
        for i in range(lo, hi + 1):
            reward[i] = scaled_sigmoid(-(hi - i + 1) / width) * profile.tp_weight / max_tp
            window[i] = w
        prev_right, prev_width, cursor = hi, width, hi + 1
    for i in range(cursor, n):
        reward[i] = profile.fp_weight * _fp_position(i, prev_right, prev_width)
    window[: probation_rows(n)] = -2
    return _Sweep(reward, window)


def _fp_position(i: int, prev_right: int | None, prev_width: float) -> float:
    if prev_right is None:
        return -1.0
    # NAB divides by (width - 1); a one-row window would divide by zero, so treat it as far
    if prev_width <= 1:
        return -1.0
    return scaled_sigmoid(abs(prev_right - i) / (prev_width - 1.0))


def _scorable_windows(file: LabelledFile) -> int:
    """Windows with at least one row after probation: the ones a detector can lose."""
    return sum(1 for _, hi in file.windows if hi >= probation_rows(file.rows))


def score_corpus(
    files: Sequence[LabelledFile],
    scores: Mapping[str, NDArray[np.float64]],
    profile: Profile,
    threshold: float | None = None,
) -> CorpusScore:
    """Sweep every distinct score as a threshold over the whole corpus and keep the best, or
    score at a given `threshold` (a detector's own alarm line)."""
    sweeps = [_sweep(f, profile) for f in files]
    all_scores = np.concatenate([np.asarray(scores[f.name], dtype=np.float64) for f in files])
    all_reward = np.concatenate([s.reward for s in sweeps])
    offsets = np.cumsum([0] + [len(f.windows) for f in files])
    all_window = np.concatenate(
        [
            np.where(s.window >= 0, s.window + off, s.window)
            for s, off in zip(sweeps, offsets, strict=False)
        ]
    )
    keep = all_window != -2
    all_scores, all_reward, all_window = all_scores[keep], all_reward[keep], all_window[keep]
    order = np.argsort(-all_scores, kind="stable")
    n_windows = int(offsets[-1])
    scorable = sum(_scorable_windows(f) for f in files)
    best = _best_threshold(
        all_scores[order],
        all_reward[order],
        all_window[order],
        n_windows,
        scorable,
        profile,
        threshold,
    )
    chosen, raw, detected, fps = best
    null = -profile.fn_weight * scorable
    perfect = profile.tp_weight * n_windows
    normalized = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return CorpusScore(profile.name, chosen, raw, normalized, detected, n_windows, fps)


def _best_threshold(
    scores: NDArray[np.float64],
    reward: NDArray[np.float64],
    window: NDArray[np.int64],
    n_windows: int,
    scorable: int,
    profile: Profile,
    fixed: float | None,
) -> tuple[float, float, int, int]:
    """Walk the rows from the highest score down; a threshold takes effect once every row
    with that score has been counted (NAB counts rows whose score is >= the threshold)."""
    if fixed is not None:
        count = int(np.searchsorted(-scores, -fixed, side="right"))
        scores, reward, window = scores[:count], reward[:count], window[:count]
    win_score = [-profile.fn_weight] * n_windows
    fp_total = 0.0
    windows_total = -profile.fn_weight * scorable
    detected = fps = 0
    # above every score: the detector never fires
    best = (1.1 if fixed is None else fixed, windows_total, 0, 0)
    for i in range(len(scores)):
        w = int(window[i])
        if w < 0:
            fp_total += float(reward[i])
            fps += 1
        elif reward[i] > win_score[w]:
            if win_score[w] == -profile.fn_weight:
                detected += 1
            windows_total += float(reward[i]) - win_score[w]
            win_score[w] = float(reward[i])
        last_of_tie = i + 1 == len(scores) or scores[i + 1] != scores[i]
        total = windows_total + fp_total
        if last_of_tie and (total > best[1] or fixed is not None):
            best = (float(scores[i]) if fixed is None else fixed, total, detected, fps)
    return best


@dataclass(frozen=True)
class CorpusFile:
    labels: LabelledFile
    timestamps: NDArray[np.float64]
    values: NDArray[np.float64]


def load_corpus(root: Path) -> list[CorpusFile]:
    """Every file named in labels/combined_windows.json, read from data/, in a stable order."""
    labels_path = root / "labels" / "combined_windows.json"
    if not labels_path.is_file():
        raise FileNotFoundError(f"{labels_path} not found: is {root} a NAB data folder?")
    windows: dict[str, list[list[str]]] = json.loads(labels_path.read_text())
    out: list[CorpusFile] = []
    for name in sorted(windows):
        table = read_table(root / "data" / name)
        limits = [(parse_timestamp(a), parse_timestamp(b)) for a, b in windows[name]]
        rows = windows_to_rows(table.written_seconds, limits)
        labelled = LabelledFile(name, len(table.timestamps), rows)
        out.append(CorpusFile(labelled, table.timestamps, next(iter(table.columns.values()))))
    return out
