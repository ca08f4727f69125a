"""benchmarks/scale.py end to end with tiny sizes: it starts PostgreSQL, 1 and 3 replicas,
the split shape, SQLite and Alertmanager, prints its one table and passes its own count check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def test_scale_benchmark_runs_with_tiny_sizes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--alerts", "200", "--groups",
         "4", "--rounds", "1", "--timeout", "120"],
        capture_output=True, text=True, timeout=400, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for row in ("1 replica, PostgreSQL", "3 replicas, PostgreSQL", "1 process, SQLite",
                "serve --no-workers + 1 worker, PostgreSQL", "intake alone",
                "Alertmanager 0.25", "3 replicas vs 1", "exactly once"):  # fmt: skip
        assert row in done.stdout, done.stdout
    assert "MISMATCH" not in done.stdout
