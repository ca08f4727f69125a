"""`firstline demo`: three bundled incidents end to end, with live progress.

1. fixed automatically and verified;
2. paused for approval, then approved by a *separate process* (`firstline approve`),
   which resumes the run from its checkpoint;
3. escalated to a person with the investigation attached.

The demo runs with the policy in `auto` mode so that the decision rules (not the
approve-everything default of a new install) choose each path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from rich.console import Console
from rich.rule import Rule

from firstline.cli import render as report
from firstline.cli.brief import print_brief
from firstline.cli.output import emit_json
from firstline.policy.schema import Mode
from firstline.reporting.incident import state_from_store
from firstline.scenarios.bundled import bundled_dir
from firstline.scenarios.loader import load_bundle
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings

AUTO_FIX = "oom-kill-loop-checkout"
NEEDS_APPROVAL = "deploy-regression-search-api"
ESCALATED = "unknown-conversion-drop-checkout"

console = Console(stderr=True)


async def _investigate(settings: Settings, scenario: str, quiet: bool) -> Any:
    bundle = load_bundle(bundled_dir() / scenario)
    async with open_runtime(settings, scenario=bundle.path, mode=Mode.AUTO) as rt:
        progress = None if quiet else report.StageProgress("  ")
        outcome = await rt.runner.start(
            bundle.primary_alert,
            scenario=bundle.path,
            on_stage=progress.stage if progress else None,
        )
        if not quiet:
            print_brief(outcome.state, [])
        return outcome


def _approve_in_another_process(settings: Settings, incident_id: str, quiet: bool) -> None:
    command = [
        sys.executable, "-m", "firstline", "--data-dir", str(settings.store.data_dir),
        "approve", incident_id, "--by", "demo-operator", "--comment", "looks right",
    ]  # fmt: skip
    if not quiet:
        shown = f"$ firstline approve {incident_id} --by demo-operator"
        console.print(f"  [dim]{shown}[/dim]")
        console.print(f"  [dim](a new process; this one is {os.getpid()})[/dim]")
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise ValueError(
            f"the approval process failed: {done.stderr.strip() or done.stdout.strip()}"
        )
    if not quiet:
        console.print(done.stdout.rstrip())


async def run_demo(base: Settings, as_json: bool = False) -> None:
    started = time.monotonic()
    settings = base.model_copy(
        update={"store": base.store.model_copy(update={"data_dir": base.store.data_dir / "demo"})}
    )
    summary: list[dict[str, Any]] = []
    for title, scenario in (
        ("1/3 fixed automatically", AUTO_FIX),
        ("2/3 needs a person's approval", NEEDS_APPROVAL),
        ("3/3 escalated", ESCALATED),
    ):
        if not as_json:
            console.print(Rule(f"[bold]{title}[/bold]: {scenario}"))
        outcome = await _investigate(settings, scenario, as_json)
        incident_id = outcome.state.incident_id
        if outcome.paused:
            _approve_in_another_process(settings, incident_id, as_json)
        async with open_runtime(settings, incident_id=incident_id) as rt:
            final = state_from_store(rt.store, incident_id)
        summary.append(
            {"scenario": scenario, "incident_id": incident_id, "status": final.status.value,
             "decision": final.decisions[0].outcome.value if final.decisions else None,
             "approved_by": final.approval.by if final.approval else None}
        )  # fmt: skip
    elapsed = time.monotonic() - started
    if as_json:
        emit_json({"incidents": summary, "seconds": round(elapsed, 2)})
        return
    console.print(Rule("[bold]demo summary[/bold]"))
    for item in summary:
        console.print(
            f"  {item['scenario']:<33}{item['decision']:<17}→ [bold]{item['status']}[/bold]"
            + (f", by {item['approved_by']}" if item["approved_by"] else "")
        )
    console.print(f"  [dim]{elapsed:.1f}s; incidents stored under {settings.store.data_dir}[/dim]")
