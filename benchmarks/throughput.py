"""Throughput of the per-point detectors, points per second on one core.

    python benchmarks/throughput.py [--points N] [--repeats R]

streaming: one `NoveltyStream.update(t, x)` call per point, as a live feed would make them;
chunks of 60: `update_many` per minute of 1-second data; batch: one call over the series.
The series is a noisy daily cycle with spikes, gaps (NaN) and irregular steps. Medians of R.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from firstline.detection.novelty import NoveltyStream, novelty_scores
from firstline.detection.scoring import article_scores, windowed_gaussian_scores


def make_series(n: int, seed: int = 0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    stamps = np.cumsum(rng.uniform(30.0, 90.0, n))
    values = 100 + 20 * np.sin(stamps * 2 * np.pi / 86_400) + rng.normal(0, 3, n)
    values[rng.random(n) < 0.001] *= 5
    values[rng.random(n) < 0.001] = np.nan
    return stamps, values


def streaming(stamps: list[float], values: list[float]) -> None:
    update = NoveltyStream().update
    for t, x in zip(stamps, values, strict=True):
        update(t, x)


def chunked(stamps: list[float], values: list[float], size: int = 60) -> None:
    stream = NoveltyStream()
    for i in range(0, len(values), size):
        stream.update_many(stamps[i : i + size], values[i : i + size])


def measure(fn: Callable[[], object], points: int, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        rates.append(points / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    stamps, values = make_series(args.points)
    ts_list, xs_list = stamps.tolist(), values.tolist()
    n, r = args.points, args.repeats
    cases = [
        ("novelty", "streaming, one call per point", lambda: streaming(ts_list, xs_list)),
        ("novelty", "streaming, chunks of 60", lambda: chunked(ts_list, xs_list)),
        ("novelty", "batch", lambda: novelty_scores(stamps, values)),
        ("article_baseline", "batch (numpy)", lambda: article_scores(stamps, values)),
        ("windowed_gaussian", "batch (numpy)", lambda: windowed_gaussian_scores(stamps, values)),
    ]
    table = Table(title=f"Throughput, {n} points, median of {r} runs, one core")
    table.add_column("detector")
    table.add_column("mode")
    table.add_column("points/s", justify="right")
    for name, mode, fn in cases:
        table.add_row(name, mode, f"{measure(fn, n, r):,.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
