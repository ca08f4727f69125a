"""How long firstline's commands take from the shell, beside `python -c pass` in the same run.

Each command runs `--rounds` times as a fresh process (`python -m firstline ...`, the same
interpreter and virtualenv); the table prints the median and the fastest wall time, the
target where issue #13 set one, and the modules the command imported that it should not
need. With `--against REF` the same commands run, in the same invocation, over the code of
git revision REF (checked out into a temporary worktree), and a ratio column shows the change:

    .venv/bin/python benchmarks/startup.py [--rounds 7] [--against 97fe58f] [--json]

Commands: `--help`; `incidents` and `show ID` on a data directory holding one incident;
`detect` on a 1,000-row CSV; `investigate` on a bundled scenario (the whole graph run).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "oom-kill-loop-checkout"
TARGETS = {"--help": 0.5, "incidents": 0.5, "detect": 0.8}
"""Seconds of wall time on an idle machine (issue #13's "Must show")."""
HEAVY = ("langgraph", "langchain_core", "fastapi", "uvicorn", "numpy", "redis")


@dataclass(frozen=True)
class Timing:
    median: float
    fastest: float
    heavy: tuple[str, ...]


def _series(path: Path, rows: int = 1000) -> None:
    """A NAB-style series: a daily wave, noise, and one level shift to find."""
    lines = ["timestamp,value"]
    start = 1_700_000_000
    for i in range(rows):
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start + 300 * i))
        value = 50 + 10 * math.sin(i / 288 * 2 * math.pi) + (i % 7) * 0.3
        value += 40 if 700 <= i < 720 else 0
        lines.append(f"{stamp},{value:.3f}")
    path.write_text("\n".join(lines) + "\n")


class Runner:
    """Runs firstline from one source tree with one data directory."""

    def __init__(self, src: Path, data_dir: Path) -> None:
        self.env = {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1", "COLUMNS": "100"}
        self.env.pop("FIRSTLINE_CONFIG", None)
        self.data_dir = data_dir

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "firstline", "--data-dir", str(self.data_dir), *args]

    def once(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.argv(*args), env=self.env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise SystemExit(f"firstline {' '.join(args)} failed: {done.stderr.strip()[-300:]}")
        return done

    def time(self, args: tuple[str, ...], rounds: int) -> Timing:
        walls = []
        for _ in range(rounds):
            started = time.perf_counter()
            self.once(*args)
            walls.append(time.perf_counter() - started)
        return Timing(statistics.median(walls), min(walls), self.heavy_imports(args))

    def heavy_imports(self, args: tuple[str, ...]) -> tuple[str, ...]:
        """The heavy packages the command had imported by the time it finished."""
        probe = (
            "import runpy, sys, atexit\n"
            f"heavy = {HEAVY!r}\n"
            "def report():\n"
            "    loaded = sorted({m.split('.')[0] for m in sys.modules} & set(heavy))\n"
            "    sys.stderr.write('LOADED ' + ','.join(loaded) + '\\n')\n"
            "atexit.register(report)\n"
            "sys.argv = ['firstline'] + sys.argv[1:]\n"
            "runpy.run_module('firstline', run_name='__main__')\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe, "--data-dir", str(self.data_dir), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        line = next((x for x in done.stderr.splitlines() if x.startswith("LOADED ")), "LOADED ")
        return tuple(m for m in line.removeprefix("LOADED ").split(",") if m)


def _python_pass(rounds: int) -> Timing:
    walls = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        walls.append(time.perf_counter() - started)
    return Timing(statistics.median(walls), min(walls), ())


def measure(src: Path, rounds: int, scratch: Path) -> dict[str, Timing]:
    scratch.mkdir(parents=True, exist_ok=True)
    data_dir = scratch / "data"
    series = scratch / "series.csv"
    _series(series)
    runner = Runner(src, data_dir)
    # One incident to list and show; its run is also the `investigate` measurement's warm-up.
    seeded = json.loads(runner.once("investigate", str(SCENARIO / "alert.json"), "--json").stdout)
    commands: dict[str, tuple[str, ...]] = {
        "--help": ("--help",),
        "incidents": ("incidents",),
        "show ID": ("show", seeded["incident_id"]),
        "detect (1,000 rows)": ("detect", str(series), "--quiet"),
        "investigate (bundle)": ("investigate", str(SCENARIO / "alert.json")),
    }
    timings = {"python -c pass": _python_pass(rounds)}
    for name, args in commands.items():
        timings[name] = runner.time(args, rounds)
    return timings


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="firstline-startup-ref-") as scratch:
        path = Path(scratch) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(path), ref],
            check=True,
        )
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=True
            )


def _target_of(name: str) -> float | None:
    return TARGETS.get(name.split(" ")[0])


def print_table(now: dict[str, Timing], ref: dict[str, Timing] | None, label: str) -> None:
    head = f"{'command':<22} {'median s':>9} {'fastest':>8} {'target':>7}  "
    head += f"{label + ' s':>12} {'ratio':>6}  " if ref else ""
    print(head + "heavy imports")
    for name, t in now.items():
        target = _target_of(name)
        mark = "" if target is None else ("ok" if t.median < target else "SLOW")
        row = f"{name:<22} {t.median:>9.3f} {t.fastest:>8.3f} "
        row += f"{(f'{target:.1f} {mark}' if target else '-'):>7}  "
        if ref:
            before = ref[name].median
            row += f"{before:>12.3f} {t.median / before:>6.2f}  "
        print(row + (", ".join(t.heavy) or "-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--against", help="a git revision to measure in the same run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="firstline-startup-") as scratch:
        now = measure(ROOT / "src", args.rounds, Path(scratch) / "now")
        ref = None
        if args.against:
            with worktree(args.against) as tree:
                ref = measure(tree / "src", args.rounds, Path(scratch) / "ref")
    if args.json:
        out = {"rounds": args.rounds, "now": {k: vars(v) for k, v in now.items()}}
        if ref:
            out |= {"against": args.against, "ref": {k: vars(v) for k, v in ref.items()}}
        print(json.dumps(out, indent=2))
        return
    print(
        f"firstline startup, {args.rounds} rounds each, wall seconds (load {os.getloadavg()[0]:.2f})"
    )
    print_table(now, ref, args.against or "")


if __name__ == "__main__":
    main()
