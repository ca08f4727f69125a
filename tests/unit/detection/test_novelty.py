"""The envelope novelty detector: range, causality, streaming = batch, and the hard shapes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from firstline.detection.novelty import ALARM, DAY, NoveltyParams, NoveltyStream, novelty_scores

STEP = 300.0


def stamps(n: int) -> np.ndarray:
    return np.arange(n) * STEP


def alarms(values: np.ndarray, t: np.ndarray | None = None) -> np.ndarray:
    t = stamps(len(values)) if t is None else t
    return np.flatnonzero(novelty_scores(t, values) >= ALARM)


series = st.lists(
    st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan"))),
    min_size=1,
    max_size=120,
)


@settings(max_examples=60, deadline=None)
@given(values=series, cut=st.integers(1, 119), chunk=st.integers(1, 17))
def test_scores_are_causal_bounded_and_chunking_does_not_matter(
    values: list[float], cut: int, chunk: int
) -> None:
    x = np.array(values)
    t = stamps(len(x))
    whole = novelty_scores(t, x)
    assert ((whole >= 0) & (whole <= 1)).all()
    cut = min(cut, len(x))
    assert np.array_equal(novelty_scores(t[:cut], x[:cut]), whole[:cut])
    stream = NoveltyStream()
    pieces = [
        stream.update_many(t[i : i + chunk], x[i : i + chunk]) for i in range(0, len(x), chunk)
    ]
    assert np.array_equal(np.concatenate(pieces), whole)
    one = NoveltyStream()
    assert [one.update(a, b) for a, b in zip(t.tolist(), x.tolist(), strict=True)] == whole.tolist()


def test_spike_and_level_shift_are_found() -> None:
    rng = np.random.default_rng(1)
    x = 50 + rng.normal(0, 2, 2000)
    x[1200] = 90
    x[1600:] += 30
    found = alarms(x)
    late = found[found > 300]
    assert 1200 in late and any(1600 <= i <= 1603 for i in late)
    # new records of pure Gaussian noise alarm now and then (a few per thousand points)
    assert len(late) <= 10


def test_flat_line_is_quiet_until_it_moves() -> None:
    x = np.full(500, 7.0)
    assert len(alarms(x)) == 0
    x[400:] = 7.5
    assert list(alarms(x)) == [400]


def test_daily_cycle_is_learnt_and_a_break_in_it_is_found() -> None:
    rng = np.random.default_rng(2)
    n = int(10 * DAY / STEP)
    t = stamps(n)
    x = 100 + 40 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1, n)
    quiet = alarms(x, t)
    assert not (quiet > int(2 * DAY / STEP)).any()
    broken = x.copy()
    middle = int(7.2 * DAY / STEP)
    broken[middle : middle + 100] = 100  # the cycle stops, inside the usual range
    found = alarms(broken, t)
    assert any(middle <= i <= middle + 100 for i in found)


def test_noise_rarely_alarms_and_gaps_score_zero() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, 4000)
    x[rng.random(4000) < 0.05] = np.nan
    scores = novelty_scores(stamps(4000), x)
    assert (scores[np.isnan(x)] == 0).all()
    assert (scores[600:] >= ALARM).sum() <= 8


def test_irregular_steps_and_duplicates() -> None:
    rng = np.random.default_rng(4)
    t = np.cumsum(rng.choice([0.0, 60.0, 60.0, 600.0, 3600.0], 1500))
    x = 10 + rng.normal(0, 0.5, 1500)
    x[1300] = 40
    found = alarms(x, t)
    assert 1300 in found and (found > 200).sum() <= 6


def _days(n_days: int, step: float = 300.0) -> np.ndarray:
    return np.arange(int(n_days * 86_400 / step)) * step


def test_season_gate_keeps_the_daily_view_where_there_is_a_cycle() -> None:
    t = _days(10)
    rng = np.random.default_rng(3)
    x = np.sin(2 * np.pi * t / 86_400) + rng.normal(0, 0.05, len(t))
    broken = (t >= 8 * 86_400 + 3 * 3600) & (t < 8 * 86_400 + 9 * 3600)
    x[broken] = -x[broken]  # the cycle inverts for six hours, inside its usual range
    gated = novelty_scores(t, x)
    assert gated[broken].max() >= 0.5
    assert novelty_scores(t, x, NoveltyParams(season_weight=0.0))[broken].max() < 0.5


def test_season_gate_drops_the_daily_view_without_a_cycle() -> None:
    t = _days(10)
    x = np.random.default_rng(4).normal(10, 1, len(t))
    gated = novelty_scores(t, x)
    without = novelty_scores(t, x, NoveltyParams(season_weight=0.0))
    always = novelty_scores(t, x, NoveltyParams(season_gate="off"))
    # differencing white noise doubles its variance: the daily view never counts
    assert np.array_equal(gated, without)
    assert (always >= 0.5).sum() >= (gated >= 0.5).sum()
