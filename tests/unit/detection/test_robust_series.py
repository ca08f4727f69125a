"""What real monitoring series contain is scored, never refused: clock steps back, repeated
times, gaps, flat lines, counters that reset, huge ranges, and every shipped NAB file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from firstline.cli.detection import register
from firstline.detection.counters import counter_rate, looks_like_counter
from firstline.detection.inputs import read_input
from firstline.detection.nab import load_corpus
from firstline.detection.novelty import ALARM, novelty_scores
from firstline.detection.series import monotone_clock, read_table

NAB_DEV = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "nab-dev"
STEP = 300.0
T0 = 1_700_000_000.0

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def _root() -> None:
    """Test app."""


register(app)
runner = CliRunner()


def write_csv(path: Path, stamps: list[float] | np.ndarray, values: np.ndarray) -> Path:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp", "value"])
        for t, v in zip(stamps, values, strict=True):
            out.writerow([int(t), "" if np.isnan(v) else repr(float(v))])
    return path


def detect_json(path: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(app, ["detect", str(path), "--json", *extra])
    assert result.exit_code == 0, result.output
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def noisy(n: int, seed: int = 0, level: float = 10.0) -> np.ndarray:
    return level + np.random.default_rng(seed).normal(0, 1, n)


def test_clock_step_back_is_rebased_not_refused(tmp_path: Path) -> None:
    stamps = [T0 + STEP * i for i in range(600)]
    stamps[300:] = [t - 3600 for t in stamps[300:]]  # the clock steps back an hour
    values = noisy(600)
    values[450] = 60.0
    table = read_table(write_csv(tmp_path / "s.csv", stamps, values))
    assert table.clock_steps == 1
    assert np.all(np.diff(table.timestamps) >= 0)
    # the spacing the detectors see is the series' own on both sides of the step
    assert np.allclose(np.diff(table.timestamps), STEP)
    assert table.raw_seconds is not None and table.raw_seconds[300] == stamps[300]
    payload = detect_json(tmp_path / "s.csv")
    assert payload["clock_steps"] == 1
    windows = payload["windows"]
    assert isinstance(windows, list)
    # the spike after the step is found, and dated with the time as written
    written = f"{np.datetime64(int(stamps[450]), 's')}Z"
    assert any(w["start"] <= written <= w["end"] for w in windows)


def test_many_steps_back_and_repeats() -> None:
    stamps = np.array([0.0, 60, 120, 60, 120, 120, 180, 0, 60])
    clock, back, repeats = monotone_clock(stamps)
    assert back == 2 and repeats == 1
    assert np.all(np.diff(clock) >= 0) and clock[3] == 180.0


def test_duplicates_and_gaps_are_scored(tmp_path: Path) -> None:
    stamps = [T0 + STEP * i for i in range(500)]
    stamps[200] = stamps[199]  # a repeated sample
    stamps[300:] = [t + 86_400 for t in stamps[300:]]  # a day missing
    values = noisy(500)
    values[100:110] = np.nan
    values[400] = 50.0
    payload = detect_json(write_csv(tmp_path / "s.csv", stamps, values))
    assert payload["duplicates"] == 1 and payload["gaps"] == 10
    assert payload["windows"], "the spike after the gap must still be found"


def test_flat_line_is_quiet_until_it_moves() -> None:
    stamps = T0 + STEP * np.arange(400)
    flat = np.full(400, 3.0)
    assert novelty_scores(stamps, flat).max() == 0.0
    flat[300:] = 3.5
    scores = novelty_scores(stamps, flat)
    assert scores[300] >= ALARM and scores[:300].max() == 0.0


def counter_series(n: int = 800, resets: tuple[int, ...] = (500,)) -> np.ndarray:
    rate = 5.0 + np.random.default_rng(1).uniform(0, 1, n)
    total = np.cumsum(rate)
    for r in resets:
        total[r:] -= total[r - 1]  # the process restarts: the counter starts from zero
    return total


def test_counter_with_reset_scores_its_rate(tmp_path: Path) -> None:
    values = counter_series()
    stamps = T0 + STEP * np.arange(len(values))
    assert looks_like_counter(values)
    rate = counter_rate(stamps, values)
    assert np.isnan(rate[0]) and np.all(rate[1:] > 0)  # the reset counts from zero
    path = write_csv(tmp_path / "c.csv", stamps, values)
    as_rate = detect_json(path)
    as_values = detect_json(path, "--raw")
    assert as_rate["counter"] is True and as_values["counter"] is False

    def near_reset(payload: dict[str, object]) -> bool:
        windows = payload["windows"]
        assert isinstance(windows, list)
        at = f"{np.datetime64(int(stamps[500]), 's')}Z"
        return any(w["start"] <= at <= w["end"] for w in windows)

    # a steady rate has nothing to report; the raw values' cliff at the restart does
    assert near_reset(as_values) and not near_reset(as_rate)


@pytest.mark.parametrize(
    "values",
    [
        noisy(300),  # a gauge wanders both ways
        np.concatenate([np.full(150, 5.0), np.full(150, 4.0)]),  # flat with one drop
        np.concatenate([np.arange(150.0), np.arange(150.0, 0, -1)]),  # up then down
    ],
)
def test_gauges_are_not_counters(values: np.ndarray) -> None:
    assert not looks_like_counter(values)


@pytest.mark.parametrize("scale", [1e-12, 1e12, 1e300])
def test_huge_and_tiny_ranges_score_in_range(tmp_path: Path, scale: float) -> None:
    values = noisy(400) * scale
    values[350] = values[349] * 8
    stamps = T0 + STEP * np.arange(400)
    scores = novelty_scores(stamps, values)
    assert np.all(np.isfinite(scores)) and scores.min() >= 0 and scores.max() <= 1
    assert scores[350] >= ALARM  # the detector is scale-free: the spike shows at any scale
    assert detect_json(write_csv(tmp_path / "s.csv", stamps, values))["windows"]


def test_range_across_the_float_limits() -> None:
    values = np.array([1e308, -1e308, 1.0, 1e-300, -1.7e308, 1e308] * 20)
    scores = novelty_scores(np.arange(len(values)) * 60.0, values)
    assert np.all(np.isfinite(scores)) and scores.min() >= 0 and scores.max() <= 1


@pytest.mark.skipif(not NAB_DEV.is_dir(), reason=f"NAB development data not at {NAB_DEV}")
def test_every_shipped_nab_file_is_scored() -> None:
    corpus = load_corpus(NAB_DEV)
    assert len(corpus) == 35
    for item in corpus:
        scores = novelty_scores(item.timestamps, item.values)
        assert len(scores) == item.labels.rows and np.all(np.isfinite(scores)), item.labels.name
        assert not looks_like_counter(item.values), item.labels.name  # none is a counter


@pytest.mark.skipif(not NAB_DEV.is_dir(), reason=f"NAB development data not at {NAB_DEV}")
def test_a_real_series_with_a_clock_step_and_duplicates_via_the_cli(tmp_path: Path) -> None:
    source = sorted((NAB_DEV / "data" / "realAWSCloudwatch").glob("*.csv"))[0]
    rows = list(csv.reader(source.open()))
    header, body = rows[0], rows[1:]
    middle = len(body) // 2
    # repeat an hour of rows (a clock stepped back and a collector that re-sent samples)
    edited = [header, *body[:middle], *body[middle - 12 : middle], *body[middle:]]
    path = tmp_path / "edited.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(edited)
    payload = detect_json(path)
    assert payload["rows"] == len(body) + 12 and payload["clock_steps"] == 1
    assert read_input(path).duplicates == 0
