"""Envelope novelty: a causal, O(1)-per-point anomaly score in [0, 1].

Idea: a point is anomalous when some view of the series goes where it has never been. Four
views are tracked, each with an envelope (the highest and lowest value seen, shrinking slowly
so an old extreme is eventually forgotten):

- ``value``: the raw value (spikes, drops);
- ``fast``:  an exponentially weighted mean over ~5 samples (a level shift inside noise);
- ``slow``:  the same over ~20 samples (slow leaks and ramps that stay inside the noise band);
- ``season``: the fast mean minus the fast mean one day earlier (a change against the daily
  cycle; it stays silent on series with no daily cycle because its envelope is then wide).

A view's novelty is how far it leaves its envelope, as a fraction of the envelope's width;
the score is ``1 - exp(-weight * novelty)``, the maximum over views. A point whose score does
not beat the recent scores (a decayed maximum over ~12 samples) scores 0: one event raises one
alarm, not a burst of them.

Why envelopes and not z-scores: a z-score assumes a spread that most operational metrics do
not have (bursty, skewed, clipped at zero), so it fires on noise; "never seen before" needs
no distribution, adapts by itself to level shifts (the envelope widens once) and flat lines
(any move off a flat line is new). Smoothing is counted in samples, not seconds, so it fits
15-second scrapes and 5-minute CloudWatch alike; a gap lets the means catch up in proportion
to the time that passed. The whole update is a few dozen float operations, so plain Python
keeps up with far more than 100,000 points a second.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

DAY = 86_400.0
ALARM = 0.5  # NAB's corpus-optimal threshold for these weights lands close to it


@dataclass(frozen=True)
class NoveltyParams:
    fast_alpha: float = 0.2
    slow_alpha: float = 0.05
    # 12 puts the alarm line at 0.5: a view ~6% of its envelope's width beyond it
    value_weight: float = 12.0
    fast_weight: float = 12.0
    slow_weight: float = 12.0
    # a seasonal difference is noisier than the level, so it must leave its envelope further
    season_weight: float = 3.6
    season_seconds: float = DAY
    warmup: int = 10
    # samples over which a raised alarm keeps later, weaker alarms quiet
    refractory_samples: float = 12.0
    # envelopes shrink by half towards their middle in this long
    envelope_half_life_seconds: float = 90 * DAY
    # the seasonal view counts only while differencing by a season has made the series
    # steadier than its spread around its mean (a cycle is there to remove). "history": the
    # level's spread over every sample so far; "span": over the samples that have a
    # season-ago partner, as the differences do; "off": always count it
    season_gate: Literal["history", "span", "off"] = "history"


def _season_view(gate: list[float], fast: float, lagged: float | None, mode: str) -> float | None:
    """The seasonal difference, or None when there is none or it should not count: while its
    differences vary at least as much as the level does around its mean, there is no cycle
    for differencing to remove (white noise doubles its variance when differenced). Updates
    the gate's sums (`mode`: see NoveltyParams.season_gate)."""
    d = None if lagged is None else fast - lagged
    if mode == "off":
        return d
    if gate[6] != gate[6]:
        gate[6] = fast
    level = fast - gate[6]  # around the first value: no cancellation at huge levels
    if d is not None or mode == "history":
        gate[0] += 1.0
        gate[1] += level
        gate[2] += level * level
    if d is None:
        return None
    gate[3] += 1.0
    gate[4] += d
    gate[5] += d * d
    mean_l, mean_d = gate[1] / gate[0], gate[4] / gate[3]
    steadier = gate[5] / gate[3] - mean_d * mean_d < gate[2] / gate[0] - mean_l * mean_l
    return d if steadier else None


class NoveltyStream:
    """Scores one series point by point; `update_many` over chunks gives identical results."""

    _VIEWS = 4  # value, fast, slow, season

    def __init__(self, params: NoveltyParams | None = None) -> None:
        self.params = params or NoveltyParams()
        self._hi = [0.0] * self._VIEWS
        self._lo = [0.0] * self._VIEWS
        self._seen = [0] * self._VIEWS
        self._fast = 0.0
        self._slow = 0.0
        self._last_t = math.nan
        self._step = 0.0
        self._recent = 0.0
        # the season gate: the fast mean's count, sum, sum of squares (around its first value,
        # kept last), then the seasonal differences'
        self._gate = [0.0] * 6 + [math.nan]
        self._history: deque[tuple[float, float]] = deque()

    def update(self, t: float, x: float) -> float:
        return self._run((t,), (x,))[0]

    def update_many(
        self, ts: Sequence[float] | NDArray[np.float64], xs: Sequence[float] | NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Score points in time order (the caller sorts; equal timestamps are allowed)."""
        stamps: Sequence[float] = ts.tolist() if isinstance(ts, np.ndarray) else ts
        values: Sequence[float] = xs.tolist() if isinstance(xs, np.ndarray) else xs
        return np.asarray(self._run(stamps, values), dtype=np.float64)

    def _run(self, ts: Sequence[float], xs: Sequence[float]) -> list[float]:
        """One loop with the state in local variables: attribute lookups and calls per point
        would cost more than the arithmetic itself."""
        p = self.params
        weights = (p.value_weight, p.fast_weight, p.slow_weight, p.season_weight)
        keep_fast, keep_slow = 1.0 - p.fast_alpha, 1.0 - p.slow_alpha
        refractory = 0.5 ** (1.0 / p.refractory_samples)
        half_life, season, warmup = p.envelope_half_life_seconds, p.season_seconds, p.warmup
        hi, lo, seen = self._hi, self._lo, self._seen
        fast, slow, last_t, step = self._fast, self._slow, self._last_t, self._step
        recent = self._recent
        gate, gate_mode = self._gate, p.season_gate
        out = [0.0] * len(xs)
        views = [0.0] * self._VIEWS
        for i, x in enumerate(xs):
            if x != x:  # NaN is a gap: no score, no state change
                continue
            t = float(ts[i])
            x = float(x)
            dt = t - last_t
            if seen[0] == 0:
                fast = slow = x
            else:
                fast = keep_fast * fast + (1.0 - keep_fast) * x
                slow = keep_slow * slow + (1.0 - keep_slow) * x
                if dt > 0:
                    # a typical step that moves at most 5% per sample: robust to gaps, bursts
                    base = step or dt
                    step = base + 0.05 * max(-base, min(base, dt - base))
            last_t = t
            views[0], views[1], views[2] = x, fast, slow
            n_views = 3
            lagged = self._season_ago(t - season, step)
            d = _season_view(gate, fast, lagged, gate_mode)
            if d is not None:
                views[3] = d
                n_views = 4
            self._history.append((t, fast))
            shrink = 0.5 ** (dt / half_life) if dt > 0 else 1.0
            score = 0.0
            for v in range(n_views):
                y = views[v]
                count = seen[v]
                seen[v] = count + 1
                if count == 0:
                    hi[v] = lo[v] = y
                    continue
                top, bottom = hi[v], lo[v]
                if shrink < 1.0:
                    mid = 0.5 * (top + bottom)
                    top, bottom = mid + (top - mid) * shrink, mid - (mid - bottom) * shrink
                if count >= warmup and (y > top or y < bottom):
                    # a flat line has no width: any move off it is new, against its level
                    width = max(top - bottom, 1e-9 * max(1.0, abs(top), abs(bottom)))
                    excess = (y - top if y > top else bottom - y) / width
                    novel = 1.0 - math.exp(-weights[v] * excess)
                    if novel > score:
                        score = novel
                hi[v] = y if y > top else top
                lo[v] = y if y < bottom else bottom
            # one event raises one alarm: a score must beat the recent (decaying) maximum
            if score > recent:
                out[i] = score
            recent = max(recent * refractory, score)
        self._fast, self._slow, self._last_t, self._step = fast, slow, last_t, step
        self._recent = recent
        return out

    def _season_ago(self, target: float, step: float) -> float | None:
        """The fast mean one season ago, if a sample lies close enough to that instant."""
        history = self._history
        while len(history) > 1 and history[1][0] <= target:
            history.popleft()
        if history and target - 2.0 * step - 1.0 <= history[0][0] <= target:
            return history[0][1]
        return None


def novelty_scores(
    timestamps: Sequence[float] | NDArray[np.float64],
    values: Sequence[float] | NDArray[np.float64],
    params: NoveltyParams | None = None,
) -> NDArray[np.float64]:
    """Batch form: one fresh stream over the whole series."""
    stream = NoveltyStream(params)
    return stream.update_many(
        np.asarray(timestamps, dtype=np.float64), np.asarray(values, dtype=np.float64)
    )
