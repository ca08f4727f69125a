"""The command line imports only what a command uses: `--help` and quick commands do not
pay for the graph, the server or numpy (benchmarks/startup.py measures the time)."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest

from firstline.cli import capture, detection
from firstline.detection.scoring import SCORERS
from firstline.domain.alert import Severity
from firstline.domain.decision import Outcome

HEAVY = ("langgraph", "langchain", "langchain_core", "langsmith", "fastapi", "uvicorn", "numpy")

PROBE = """
import runpy, sys
sys.argv = ["firstline"] + sys.argv[1:]
try:
    runpy.run_module("firstline", run_name="__main__")
except SystemExit:
    pass
print("LOADED", ",".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def loaded_by(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED "))
    return set(line.removeprefix("LOADED ").split(","))


def test_help_imports_no_graph_server_or_numpy() -> None:
    loaded = loaded_by("--help")
    assert "typer" in loaded, "the probe ran the command line"
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize("command", ["investigate", "detect", "serve", "capture", "eval", "store"])
def test_a_commands_help_imports_no_graph_server_or_numpy(command: str) -> None:
    assert not loaded_by(command, "--help") & set(HEAVY)


def test_listing_incidents_imports_no_graph_server_or_numpy(tmp_path: Path) -> None:
    loaded = loaded_by("--data-dir", str(tmp_path / "data"), "incidents")
    assert "sqlite3" in loaded, "the probe listed the store"
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_detect_imports_numpy_but_not_the_graph_or_server(tmp_path: Path) -> None:
    series = tmp_path / "s.csv"
    series.write_text(
        "timestamp,value\n" + "".join(f"2024-01-01 00:{i:02d}:00,{i % 5}\n" for i in range(60))
    )
    loaded = loaded_by("detect", str(series), "--quiet")
    assert "numpy" in loaded
    assert not loaded & (set(HEAVY) - {"numpy"})


def test_names_spelled_for_help_match_their_sources() -> None:
    assert tuple(SCORERS) == detection.SCORER_NAMES
    assert typing.get_args(capture.SeverityName) == tuple(s.value for s in Severity)
    assert typing.get_args(capture.OutcomeName) == tuple(o.value for o in Outcome)
