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

from firstline.lab.faults import BY_ID as FAULTS_BY_ID
from firstline.lab.faults import FAULTS

pytestmark = pytest.mark.integration

RUN_DEADLINE = 1200  # seconds for the whole run, on a loaded machine; a normal run is ~4 min


def _firstline(*args: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "firstline", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _lab_processes(lab_dir: Path) -> list[int]:
    """Any process still running whose command line or environment names the lab's folder
    (the servers take their configs from it; the shop's pods get it in their env)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if str(lab_dir).encode() in seen:
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
    return {"done": done, "lab_dir": lab_dir, "bundles": bundles, "root": root}


def _results(lab_run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    done = lab_run["done"]
    assert done.stdout, f"no JSON from lab run (exit {done.returncode}): {done.stderr[-3000:]}"
    return {r["fault"]: r for r in json.loads(done.stdout)["faults"]}


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_each_fault_is_detected_diagnosed_and_handled_as_expected(
    lab_run: dict[str, Any], fault: Any
) -> None:
    result = _results(lab_run)[fault.id]
    assert result["incident_id"], f"no incident held {fault.expect.alertname}: {result}"
    assert result["pattern"] == fault.expect.pattern, result
    if fault.expect.outcome == "fixed":
        assert fault.expect.action in result["actions"], result
        assert result["status"] == "resolved" and result["verified"], result
        assert set(result["action_statuses"]) <= {"succeeded", "skipped_duplicate"}, result
    else:
        assert result["status"] == "escalated", result
        assert result["action_statuses"] == [], "an escalation acts on nothing"
    assert result["matches_expectation"], result["problems"]


def _audit(lab_run: dict[str, Any], incident_id: str) -> list[dict[str, Any]]:
    shown = _firstline(
        "-c", str(lab_run["lab_dir"] / "config" / "firstline.yaml"),
        "audit", "show", incident_id, "--json", cwd=lab_run["root"], timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    return list(json.loads(shown.stdout))


def test_no_action_ran_outside_the_policy(lab_run: dict[str, Any]) -> None:
    """From the lab's audit trail, every incident's: an action ran only in a fault's own
    incident and was that fault's fix, and one the policy asks a person for ran only after
    the lab's operator (the one approver the policy names) approved it."""
    config = str(lab_run["lab_dir"] / "config" / "firstline.yaml")
    listed = _firstline("-c", config, "incidents", "--json", "--limit", "200",
                        cwd=lab_run["root"], timeout=120)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    fixes = {r["incident_id"]: FAULTS_BY_ID[f].expect for f, r in _results(lab_run).items()}
    executed = 0
    for incident in json.loads(listed.stdout):
        records = _audit(lab_run, incident["id"])
        ran = [r for r in records if r["kind"] == "action"
               and r["details"].get("result") == "succeeded"]  # fmt: skip
        expect = fixes.get(incident["id"])
        for record in ran:
            executed += 1
            assert expect is not None, f"{incident['id']} is no fault's, yet ran {record}"
            assert record["details"]["action"]["type"] == expect.action, record
            if expect.approval:
                approvers = {r["actor"] for r in records if r["kind"] == "approval"}
                assert approvers == {"lab-operator"}, records
    assert executed >= sum(f.expect.outcome == "fixed" for f in FAULTS)
    verified = _firstline("-c", config, "audit", "verify", cwd=lab_run["root"], timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_every_lab_process_is_stopped_afterwards(lab_run: dict[str, Any]) -> None:
    logs = sorted(p.stem for p in (lab_run["lab_dir"] / "logs").glob("*.log"))
    for part in ("prometheus", "alertmanager", "postgres", "redis", "cluster", "firstline"):
        assert part in logs, f"{part} never ran: {logs}"
    assert json.loads((lab_run["lab_dir"] / "processes.json").read_text())["processes"] == []
    assert _lab_processes(lab_run["lab_dir"]) == []


def test_every_incident_is_captured_into_a_bundle_eval_replays(lab_run: dict[str, Any]) -> None:
    """Captured while the faults run together, a bundle can hold another fault's traces (the
    storefront's logs of a bad catalog release beside its certificate alert), so whether each
    replay names the right pattern is the committed bundles' test (tests/e2e/
    test_lab_bundles.py: captured one fault at a time). Here: every one is written and
    replays, with the fault's own expectations."""
    _results(lab_run)
    bundles = lab_run["bundles"]
    assert sorted(p.name for p in bundles.iterdir()) == sorted(f.id for f in FAULTS)
    for fault in FAULTS:
        spec = (bundles / fault.id / "scenario.yaml").read_text()
        assert f"pattern: {fault.expect.pattern}" in spec, fault.id
        assert f"decision: {fault.expect.default_decision}" in spec, fault.id
    evaluated = _firstline("eval", str(bundles), "--json", cwd=lab_run["root"], timeout=300)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    report = json.loads(evaluated.stdout)
    assert report["scenarios"] == len(FAULTS) and report["unsafe_actions"] == 0
