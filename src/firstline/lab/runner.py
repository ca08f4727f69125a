"""`firstline lab run`: inject each fault for real, follow what firstline does about it, put
the shop right again, and report how long each part took. Faults run one after another (the
narration reads best) or all at once with `together` (a bad day; each on its own service)."""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from firstline.lab import firstline_config
from firstline.lab.faults import Fault
from firstline.lab.handle import LabHandle
from firstline.lab.narrate import Approver, Follower, RunResult, summarise
from firstline.lab.topology import Topology

CAPTURE_SECONDS = 180.0


@dataclass(frozen=True)
class RunOptions:
    approve: Approver
    capture_dir: Path | None = None
    detect_timeout: float = 240.0
    run_timeout: float = 600.0
    together: bool = False


def _capture(
    topology: Topology, fault: Fault, out: Path, alert: dict[str, Any], detected: datetime
) -> subprocess.Popen[bytes]:
    """`firstline capture` of the fault's alert as Alertmanager delivered it, its evidence
    window ending when firstline received it (a fix may already have ended the alert), with
    the fault's own expectations."""
    config = topology.config_dir / firstline_config.SETTINGS_FILE
    payload = topology.logs_dir / f"capture-{fault.id}.json"
    webhook = {"version": "4", "status": "firing", "receiver": "firstline", "alerts": [alert]}
    payload.write_text(json.dumps(webhook))
    argv = [
        sys.executable, "-m", "firstline", "-c", str(config), "capture", str(payload),
        "--out", str(out / fault.id), "--force", "--now", detected.isoformat(),
        "--expect-pattern", fault.expect.pattern,
        "--expect-decision", fault.expect.default_decision,
        "--title", f"lab: {fault.title}",
    ]  # fmt: skip
    log = (topology.logs_dir / f"capture-{fault.id}.log").open("wb")
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)


def _after(capture: subprocess.Popen[bytes], approve: Approver) -> Approver:
    """Answer only once the capture is done: until then the fault is still there to be
    recorded (a rollback would leave the bundle only the healed cluster)."""

    def answer(detail: dict[str, Any]) -> bool:
        with contextlib.suppress(subprocess.TimeoutExpired):
            capture.wait(timeout=CAPTURE_SECONDS)
        return approve(detail)

    return answer


def run_one(topology: Topology, fault: Fault, options: RunOptions, console: Console) -> RunResult:
    tokens = firstline_config.lab_secrets(topology)
    follower = Follower(topology.url("firstline"), tokens["api_token"], console)
    lab = LabHandle(topology)
    injected = datetime.now(UTC)
    result = RunResult(fault=fault.id, injected_at=injected)
    capture: subprocess.Popen[bytes] | None = None
    try:
        console.print(f"[bold]{fault.id}[/bold]: {fault.title}")
        fault.inject(lab)
        start = time.monotonic()
        incident = follower.wait_for_incident(fault, injected, start + options.detect_timeout)
        if incident is None:
            result.problems.append(f"no {fault.expect.alertname} incident in time")
            return result
        result.incident_id, result.alertname = incident["id"], incident["alert_name"]
        result.detected_at = datetime.fromisoformat(incident["created_at"])
        alert = follower.expected_alert(fault, incident["id"])
        if options.capture_dir is not None and alert is not None:
            capture = _capture(topology, fault, options.capture_dir, alert, result.detected_at)
        approve = options.approve
        if capture is not None:
            approve = _after(capture, approve)
        detail = follower.follow(fault, incident["id"], approve,
                                 start + options.run_timeout)  # fmt: skip
        summarise(fault, result, detail)
        if capture is not None and capture.wait(timeout=CAPTURE_SECONDS) != 0:
            result.problems.append("firstline capture failed (see its log)")
        return result
    finally:
        fault.heal(lab)
        lab.close()
        follower.close()


def run_faults(
    topology: Topology, faults: list[Fault], options: RunOptions, console: Console
) -> list[RunResult]:
    results: dict[str, RunResult] = {}

    def one(fault: Fault) -> None:
        try:
            results[fault.id] = run_one(topology, fault, options, console)
        except Exception as exc:  # one fault's failure is its result, not the others'
            failed = RunResult(fault=fault.id, injected_at=datetime.now(UTC))
            failed.problems.append(f"the lab failed: {type(exc).__name__}: {exc}")
            results[fault.id] = failed

    if not options.together:
        for fault in faults:
            one(fault)
        return [results[f.id] for f in faults]
    threads = [threading.Thread(target=one, args=(f,), name=f.id) for f in faults]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [results[f.id] for f in faults if f.id in results]


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def medians(results: list[RunResult]) -> dict[str, float | None]:
    return {
        "fault_to_alert": _median([r.to_detect for r in results]),
        "alert_to_decision": _median([r.to_decide for r in results]),
        "decision_to_verified_fix": _median([r.to_fix for r in results]),
    }


def as_json(results: list[RunResult]) -> dict[str, Any]:
    return {"faults": [r.as_json() for r in results], "median_seconds": medians(results)}


def print_summary(results: list[RunResult], console: Console) -> None:
    from rich.table import Table

    def secs(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}s"

    table = Table(title="lab run", title_justify="left", pad_edge=False)
    for name in ("fault", "diagnosis", "did", "ok", "alert", "decide", "fix"):
        table.add_column(name, overflow="fold")
    for r in results:
        did = ",".join(r.actions) if r.status == "resolved" else (r.status or "-")
        ok = "[green]yes[/green]" if not r.problems else "[red]no[/red]"
        table.add_row(r.fault, r.pattern or "-", did, ok,
                      secs(r.to_detect), secs(r.to_decide), secs(r.to_fix))  # fmt: skip
    m = medians(results)
    table.add_row("median", "", "", "", secs(m["fault_to_alert"]),
                  secs(m["alert_to_decision"]), secs(m["decision_to_verified_fix"]))  # fmt: skip
    console.print(table)
    for r in results:
        for problem in r.problems:
            console.print(f"[red]{r.fault}[/red]: {problem}")


def asker(console: Console, auto: bool) -> Callable[[dict[str, Any]], bool]:
    """`--approve` approves as the lab's operator; otherwise a person answers at the
    prompt, and without a terminal nobody can, so the request is rejected (escalated)."""

    def decide(detail: dict[str, Any]) -> bool:
        investigation = detail.get("investigation") or {}
        decisions = investigation.get("decisions") or [{}]
        actions = [a.get("type", "?") for a in decisions[-1].get("actions", [])]
        if auto:
            console.print(f"approving {', '.join(actions)} as {firstline_config.OPERATOR}")
            return True
        if not sys.stdin.isatty():
            console.print("no terminal to ask at and no --approve: rejecting")
            return False
        answer = console.input(f"approve {', '.join(actions)}? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    return decide
