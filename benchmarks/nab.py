"""NAB benchmark: firstline's detectors and peers on the development split, NAB scoring.

    python benchmarks/nab.py [--data DIR]

DIR defaults to $FIRSTLINE_NAB_DATA, else ../shared/datasets/nab-dev beside the repository.
Every detector is scored with one corpus-wide threshold per profile, as NAB does; `novelty
@0.5` is also scored at its own fixed alarm line. Random is the median over five seeds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from firstline.detection.nab import PROFILES, CorpusFile, load_corpus, score_corpus
from firstline.detection.novelty import ALARM
from firstline.detection.scoring import SCORERS

REPO = Path(__file__).resolve().parent.parent
PUBLISHED = {  # standard profile, these 35 files (from the data set's README)
    "CAD OSE": 77.0,
    "Numenta HTM": 75.1,
    "ARTime": 74.3,
    "Relative Entropy": 58.0,
    "KNN CAD": 55.0,
    "Random Cut Forest": 54.3,
    "Etsy Skyline": 54.3,
    "Twitter ADVec": 45.8,
    "Windowed Gaussian": 37.1,
    "Bayesian changepoint": 27.7,
    "Null": 0.0,
}
ScoreFn = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


def data_dir(flag: str | None) -> Path:
    chosen = flag or os.environ.get("FIRSTLINE_NAB_DATA")
    return Path(chosen) if chosen else REPO.parent / "shared" / "datasets" / "nab-dev"


def run(corpus: list[CorpusFile], fn: ScoreFn, threshold: float | None = None) -> list[float]:
    scores = {f.labels.name: fn(f.timestamps, f.values) for f in corpus}
    labels = [f.labels for f in corpus]
    return [
        score_corpus(labels, scores, profile, threshold).normalized for profile in PROFILES.values()
    ]


def random_fn(seed: int) -> ScoreFn:
    def fn(stamps: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.float64]:
        rng = np.random.default_rng([seed, len(values)])
        return rng.random(len(values))

    return fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="NAB data folder (labels/, data/)")
    args = parser.parse_args()
    corpus = load_corpus(data_dir(args.data))
    rows: list[tuple[str, list[float], str]] = []
    for name, fn in SCORERS.items():
        started = time.perf_counter()
        result = run(corpus, fn)
        rows.append((name, result, f"{time.perf_counter() - started:.1f}s"))
    rows.append((f"novelty, at {ALARM}", run(corpus, SCORERS["novelty"], ALARM), ""))
    randoms = [run(corpus, random_fn(seed)) for seed in range(5)]
    rows.append(
        ("random, 5 seeds", [statistics.median(r[i] for r in randoms) for i in range(3)], "")
    )
    rows.append(("null", run(corpus, lambda t, v: np.zeros(len(v))), ""))

    rows_in = sum(f.labels.rows for f in corpus)
    windows = sum(len(f.labels.windows) for f in corpus)
    table = Table(title=f"NAB, {len(corpus)} files, {rows_in} rows, {windows} windows")
    for column in ("detector", *PROFILES, "run + scoring"):
        table.add_column(column, justify="left" if column == "detector" else "right")
    for name, result, took in rows:
        table.add_row(name, *(f"{v:.1f}" for v in result), took)
    Console().print(table)
    published = Table(title="Published, standard profile, same 35 files")
    published.add_column("detector")
    published.add_column("standard", justify="right")
    for name, value in PUBLISHED.items():
        published.add_row(name, f"{value:.1f}")
    Console().print(published)


if __name__ == "__main__":
    main()
