"""The lab's captured incidents (scenarios/lab, written by `firstline lab run all --capture
scenarios/lab` from the real exporters' evidence) replay under `firstline eval`: each is
diagnosed as the fault it came from, and decided as the default policy says (a bundle does
not carry the lab's runbooks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from firstline.lab.faults import FAULTS

pytestmark = pytest.mark.integration
LAB_BUNDLES = Path(__file__).resolve().parents[2] / "scenarios" / "lab"


def test_every_lab_fault_has_a_captured_bundle_and_all_pass_eval() -> None:
    assert sorted(p.name for p in LAB_BUNDLES.iterdir() if p.is_dir()) == sorted(
        f.id for f in FAULTS
    )
    done = subprocess.run(
        [sys.executable, "-m", "firstline", "eval", str(LAB_BUNDLES), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["scenarios"] == len(FAULTS)
    assert report["passed"] == len(FAULTS), done.stdout[-3000:]
    assert report["unsafe_actions"] == 0
