"""Diagnosis latency per incident, on replay: how long firstline takes from an alert to a
ranked analysis (gather + reason) and to a decision (the whole graph run, store included).

Every bundle of `scenarios/` and `heldout/` is run `--rounds` times; the table prints the
median per incident and the p95 over incidents. With `--against REF` the same measurement
runs, in the same invocation and on the same machine, over the code of git revision REF
(checked out into a temporary worktree), and a ratio column shows the change:

    .venv/bin/python benchmarks/diagnosis.py [--rounds 5] [--against 0fefda5] [--json]

The measuring code below only uses APIs that exist in every revision since the pattern
engine landed, so an old revision can run it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SETS = ("scenarios", "heldout")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def _diagnose(bundle: Any, registry: Any, detector: Any) -> None:
    from firstline.domain.alert import Severity
    from firstline.graph.gathering import gather, scope_for
    from firstline.reasoning.base import ReasoningInput
    from firstline.reasoning.rules import PatternReasoner
    from firstline.scenarios.world import ReplayWorld
    from firstline.sources.replay import ReplaySource

    alert = bundle.primary_alert
    candidates = [p.id for p in registry.candidates(alert)]
    scope = scope_for(alert, bundle.now, timedelta(minutes=60))
    source = ReplaySource(ReplayWorld(bundle))
    evidence = await gather(source, scope, registry.metric_queries(candidates), detector)
    request = ReasoningInput(
        alert=alert, severity=Severity.HIGH, candidates=candidates, evidence=evidence
    )
    await PatternReasoner(registry).analyze(request)


async def measure(rounds: int) -> dict[str, dict[str, float]]:
    """Per stage, the median time (ms) of each incident over the rounds, by bundle id.
    Bundles this revision cannot load (a newer format) are left out; the report compares
    the incidents both revisions ran."""
    from firstline.detection.detectors import get_detector
    from firstline.evaluation.scenarios import run_scenario
    from firstline.patterns.registry import PatternRegistry
    from firstline.scenarios.loader import discover, load_bundle
    from firstline.wiring.settings import load_settings

    registry = PatternRegistry.load()
    detector = get_detector("robust_shift")
    bundles = []
    for path in (p for name in SETS for p in discover(ROOT / name)):
        try:
            bundles.append(load_bundle(path))
        except Exception:  # a format this revision predates
            continue
    diagnose: dict[str, float] = {}
    whole: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="firstline-diag-") as tmp:
        for index, bundle in enumerate(bundles):
            d_times, w_times = [], []
            for r in range(rounds):
                started = time.perf_counter()
                await _diagnose(bundle, registry, detector)
                d_times.append(time.perf_counter() - started)
                settings = load_settings(
                    None, store={"data_dir": Path(tmp) / f"{index}-{r}"}, notify={"console": False}
                )
                settings = settings.model_copy(
                    update={"graph": settings.graph.model_copy(update={"verify_wait_seconds": 0})}
                )
                started = time.perf_counter()
                await run_scenario(settings, bundle, registry)
                w_times.append(time.perf_counter() - started)
            key = f"{bundle.path.parent.name}/{bundle.id}"
            diagnose[key] = statistics.median(d_times) * 1000
            whole[key] = statistics.median(w_times) * 1000
    return {"diagnose": diagnose, "whole_run": whole}


@contextmanager
def _checkout(ref: str) -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="firstline-ref-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tmp), ref],
                   check=True)  # fmt: skip
    try:
        yield tmp
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp)],
                       check=False)  # fmt: skip


def _measure_in(src: Path, rounds: int) -> dict[str, dict[str, float]]:
    """Run `measure` in a fresh interpreter whose `firstline` is imported from `src`, over
    this checkout's bundles (the same incidents for both revisions)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, __file__, "--rounds", str(rounds), "--raw"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    data: dict[str, dict[str, float]] = json.loads(out.stdout)
    return data


def _row(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), p95(values)


Timings = dict[str, dict[str, float]]


def report(current: Timings, peer: Timings | None, ref: str) -> None:
    common = set(current["diagnose"]) & set(peer["diagnose"]) if peer else set()
    print(
        f"Diagnosis latency per incident on replay ({len(current['diagnose'])} incidents"
        + (f"; ratio over the {len(common)} both revisions load)" if peer else ")")
    )
    header = f"{'stage':<26}{'median ms':>10}{'p95 ms':>9}"
    if peer:
        header += f"{ref[:10] + ' med':>15}{'ratio':>7}"
    print(header)
    for stage in ("diagnose", "whole_run"):
        med, high = _row(list(current[stage].values()))
        line = f"{stage.replace('_', ' '):<26}{med:>10.1f}{high:>9.1f}"
        if peer:
            mine, _ = _row([current[stage][k] for k in common])
            theirs, _ = _row([peer[stage][k] for k in common])
            line += f"{theirs:>15.1f}{mine / theirs:>7.2f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", help="git revision to measure in the same run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw:
        print(json.dumps(asyncio.run(measure(args.rounds))))
        return
    peer = None
    if args.against:
        with _checkout(args.against) as tree:
            peer = _measure_in(tree / "src", args.rounds)
    current = _measure_in(ROOT / "src", args.rounds)
    if args.json:
        print(json.dumps({"current": current, "against": args.against, "peer": peer}))
    else:
        report(current, peer, args.against or "")


if __name__ == "__main__":
    main()
