"""The live lab end to end (issue #18): every fault injected for real into the running shop,
detected by a real Prometheus rule through a real Alertmanager notification, diagnosed,
fixed by firstline's real executor (or escalated where the policy says so) and verified by
the alert's own condition going quiet; then every lab process is gone.

What is emulated, as docs/lab.md says: the Kubernetes API (kmock's emulator) and the
controllers and kubelet (the lab controller, which runs each pod as a real local process).
Everything else is the real thing on loopback: PostgreSQL, Redis, the Debian exporters,
Prometheus, Alertmanager, qryn (a Loki-API server), the shop's processes and `firstline
serve`. The faults run together (each on its own service) so the test stays bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from firstline.lab.faults import FAULTS

pytestmark = pytest.mark.integration

RUN_DEADLINE = 1200  # seconds for the whole run, on a loaded machine; a normal run is ~4 min


def _firstline(*args: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "firstline", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _lab_processes(lab_dir: Path) -> list[int]:
    """Any process still running whose command line names the lab's folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if str(lab_dir).encode() in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("lab")
    lab_dir, bundles = root / "lab", root / "bundles"
    done = _firstline(
        "lab", "run", "all", "--together", "--approve", "--dir", str(lab_dir),
        "--capture", str(bundles), "--json", cwd=root, timeout=RUN_DEADLINE,
    )  # fmt: skip
    recorded = json.loads((lab_dir / "processes.json").read_text())
    return {"done": done, "lab_dir": lab_dir, "bundles": bundles, "recorded": recorded,
            "root": root}  # fmt: skip


def _results(lab_run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    done = lab_run["done"]
    assert done.stdout, f"no JSON from lab run (exit {done.returncode}): {done.stderr[-3000:]}"
    return {r["fault"]: r for r in json.loads(done.stdout)["faults"]}


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_each_fault_is_detected_diagnosed_and_handled_as_expected(
    lab_run: dict[str, Any], fault: Any
) -> None:
    result = _results(lab_run)[fault.id]
    assert result["alertname"] == fault.expect.alertname, result
    assert result["pattern"] == fault.expect.pattern, result
    if fault.expect.outcome == "fixed":
        assert fault.expect.action in result["actions"], result
        assert result["status"] == "resolved" and result["verified"], result
        assert set(result["action_statuses"]) <= {"succeeded", "skipped_duplicate"}, result
    else:
        assert result["status"] == "escalated", result
        assert result["actions"] == [], "an escalation acts on nothing"
    assert result["matches_expectation"], result["problems"]


def test_no_action_ran_outside_the_policy(lab_run: dict[str, Any]) -> None:
    """The audit trail of the lab's firstline: every executed action was one a fault
    expects, and every one the policy asks a person for was approved by the lab's operator."""
    _results(lab_run)
    audit = _firstline(
        "-c", str(lab_run["lab_dir"] / "config" / "firstline.yaml"), "audit", "list", "--json",
        cwd=lab_run["root"], timeout=120,
    )  # fmt: skip
    assert audit.returncode == 0, audit.stderr
    records = json.loads(audit.stdout)
    executed = [r for r in records if r.get("kind") == "action" and r.get("outcome") != "refused"]
    expected = {f.expect.action for f in FAULTS if f.expect.action}
    assert executed, "the audit shows the lab's fixes"
    assert {r["action"]["type"] for r in executed} <= expected, executed


def test_every_lab_process_is_stopped_afterwards(lab_run: dict[str, Any]) -> None:
    recorded = lab_run["recorded"]
    assert len(recorded) >= 10, "monitoring, exporters, cluster, upstream, load and firstline"
    assert not [p for p in recorded if _alive(p["pid"])], recorded
    assert _lab_processes(lab_run["lab_dir"]) == []


def test_the_captured_bundles_pass_eval(lab_run: dict[str, Any]) -> None:
    _results(lab_run)
    bundles = lab_run["bundles"]
    assert sorted(p.name for p in bundles.iterdir()) == sorted(f.id for f in FAULTS)
    evaluated = _firstline("eval", str(bundles), "--json", cwd=lab_run["root"], timeout=300)
    assert evaluated.returncode == 0, evaluated.stdout[-3000:] + evaluated.stderr[-2000:]
