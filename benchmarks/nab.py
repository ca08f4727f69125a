"""NAB benchmark: firstline's detectors and peers on the development split, NAB scoring.

    python benchmarks/nab.py [--data DIR] [--no-grid]

DIR defaults to $FIRSTLINE_NAB_DATA, else ../shared/datasets/nab-dev beside the repository.
Every detector is scored with one corpus-wide threshold per profile, as NAB does (in-sample:
the threshold sees the files it scores); `novelty @0.5` is also scored at its own fixed alarm
line. Random is the median over five seeds.

Then leave-one-category-out (detection/crossval.py), so overfitting shows: each category is
scored with the threshold chosen on the other three, (a) with novelty's default parameters,
(b) with each season gate and the gate chosen per fold on the other three categories, and
(c) with parameters re-chosen per fold from a small grid (season weight, refractory span,
envelope half-life), the honest estimate of "tune on what you have".
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

from firstline.detection.crossval import CrossValidation, leave_one_category_out
from firstline.detection.nab import PROFILES, CorpusFile, load_corpus, score_corpus
from firstline.detection.novelty import ALARM, DAY, NoveltyParams, novelty_scores
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


DEFAULT = "defaults"


def grid(corpus: list[CorpusFile]) -> dict[str, dict[str, NDArray[np.float64]]]:
    """Novelty's scores for every file under each setting of a 3 x 3 x 3 grid around its
    defaults (s: season weight 3.6, r: refractory 12 samples, h: half-life 90 days)."""
    out = {}
    for season in (1.8, 3.6, 7.2):
        for refractory in (6.0, 12.0, 24.0):
            for days in (30.0, 90.0, 365.0):
                params = NoveltyParams(
                    season_weight=season,
                    refractory_samples=refractory,
                    envelope_half_life_seconds=days * DAY,
                )
                name = f"s{season} r{refractory:.0f} h{days:.0f}d"
                if params == NoveltyParams():
                    name = DEFAULT
                out[name] = {
                    f.labels.name: novelty_scores(f.timestamps, f.values, params) for f in corpus
                }
    return out


def cross_validation(corpus: list[CorpusFile], with_grid: bool) -> None:
    labels = [f.labels for f in corpus]
    started = time.perf_counter()
    candidates = grid(corpus) if with_grid else {}
    default = candidates.get(DEFAULT) or {
        f.labels.name: novelty_scores(f.timestamps, f.values) for f in corpus
    }
    results: list[tuple[str, CrossValidation]] = [
        (f"defaults, {name}", leave_one_category_out(labels, {DEFAULT: default}, profile))
        for name, profile in PROFILES.items()
    ]
    gates = {
        f"gate {mode}": default
        if mode == NoveltyParams().season_gate
        else {
            f.labels.name: novelty_scores(f.timestamps, f.values, NoveltyParams(season_gate=mode))
            for f in corpus
        }
        for mode in ("history", "span", "off")
    }
    standard = PROFILES["standard"]
    for name, scores in gates.items():
        results.append(
            (f"{name}, standard", leave_one_category_out(labels, {name: scores}, standard))
        )
    results.append(
        ("season gate chosen per fold, standard", leave_one_category_out(labels, gates, standard))
    )
    if with_grid:
        results.append(
            (
                f"grid of {len(candidates)}, standard",
                leave_one_category_out(labels, candidates, standard),
            )
        )
    table = Table(title="novelty, leave one category out (held-out category scored)")
    columns = ("parameters, profile", "in-sample", "LOCO", "min / median / max")
    for column in columns:
        table.add_column(column, justify="left" if column == columns[0] else "right")
    for name, cv in results:
        low, mid, high = cv.spread
        table.add_row(
            name, f"{cv.in_sample:.1f}", f"{cv.pooled:.1f}", f"{low:.1f} / {mid:.1f} / {high:.1f}"
        )
    Console().print(table)
    folds = Table(title="per held-out category (standard profile)")
    for column in ("held out", "files", "windows", "parameters", "threshold", "raw", "score"):
        folds.add_column(
            column, justify="left" if column in ("held out", "parameters") else "right"
        )
    for name, cv in results:
        if not name.endswith("standard"):
            continue
        for f in cv.folds:
            score = f"{f.normalized:.1f}" if f.normalized is not None else "-"
            folds.add_row(
                f.held_out,
                str(f.files),
                str(f.windows),
                f.candidate,
                f"{f.threshold:.3f}",
                f"{f.raw:.2f}",
                score,
            )
    Console(width=120).print(folds)
    Console().print(f"cross-validation took {time.perf_counter() - started:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="NAB data folder (labels/, data/)")
    parser.add_argument("--no-grid", action="store_true", help="skip the per-fold parameter grid")
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
    cross_validation(corpus, not args.no_grid)


if __name__ == "__main__":
    main()
