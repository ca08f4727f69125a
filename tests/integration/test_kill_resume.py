"""kill -9 at random points of 50 incident runs (real graph, checkpointer and store on
disk, the OOM scenario in auto mode: decide, act, verify), in a bounded loop of child
processes; each child resumes what the last one left. No decision and no action may be
recorded twice, and no run may fail on resume."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

RUNS = 50
MAX_KILLS = 40
ROOT = Path(__file__).resolve().parents[2]


def _child(data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.services.crash_runs", str(data_dir), str(RUNS)],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip


def _done_lines(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines() if line.startswith("done "))


def test_kill_9_at_random_points_of_fifty_runs_repeats_nothing(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "children.log"
    log.touch()
    chance = random.Random(14)
    kills = 0
    while kills < MAX_KILLS and _done_lines(log) < RUNS:
        child = _child(data_dir, log)
        before = _done_lines(log)
        # kill somewhere inside the next run or two, once the child is past its start-up
        deadline = time.monotonic() + 120
        while _done_lines(log) == before and child.poll() is None and time.monotonic() < deadline:
            if (data_dir / "incidents.sqlite").exists() and chance.random() < 0.15:
                break
            time.sleep(chance.uniform(0.05, 0.3))
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            kills += 1
        child.wait(timeout=60)
    final = _child(data_dir, log)  # no more kills: carry everything to its end
    assert final.wait(timeout=600) == 0, log.read_text()[-3000:]

    output = log.read_text()
    assert "failed " not in output, output[-3000:]
    assert kills >= 10, f"only {kills} kills landed"
    with sqlite3.connect(data_dir / "incidents.sqlite") as db:
        statuses = Counter(s for (s,) in db.execute("SELECT status FROM incidents"))
        decisions = Counter(
            incident
            for (incident,) in db.execute("SELECT incident_id FROM audit WHERE kind = 'decision'")
        )
        rounds = {
            incident: len(json.loads(snapshot)["decisions"])
            for incident, snapshot in db.execute("SELECT id, snapshot FROM incidents")
        }
        actions = Counter(
            json.loads(details)["idempotency_key"]
            for (details,) in db.execute("SELECT details FROM audit WHERE kind = 'action'")
        )
    assert sum(statuses.values()) == RUNS and statuses == {"resolved": RUNS}, statuses
    assert dict(decisions) == rounds, "one decision record per decision round of each run"
    assert max(actions.values()) == 1, [k for k, n in actions.items() if n > 1]
