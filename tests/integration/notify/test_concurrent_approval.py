"""Two people approve the same incident at the same moment, from two processes (as two
HTTP workers, or Slack and the CLI, would): exactly one decision takes effect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from firstline.domain.incident import IncidentStatus
from firstline.policy.schema import Mode
from firstline.store.action_log import ActionLog
from firstline.store.incidents import IncidentStore
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings
from tests.conftest import OOM

ROOT = Path(__file__).resolve().parents[3]


async def _paused(settings: Settings) -> str:
    async with open_runtime(settings, scenario=OOM, mode=Mode.APPROVE) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=OOM)
    assert outcome.paused
    return outcome.state.incident_id


def _approver(settings: Settings, incident_id: str, by: str, go: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tests.integration.notify.approve_main",
            str(settings.store.data_dir), incident_id, by, str(go)]  # fmt: skip
    return subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


async def test_two_concurrent_approvals_exactly_one_takes_effect(
    settings: Settings, tmp_path: Path
) -> None:
    incident_id = await _paused(settings)
    go = tmp_path / "go"
    approvers = [_approver(settings, incident_id, by, go) for by in ("alice", "bob")]
    for process in approvers:  # wait until both have opened their runtime
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "ready" in line, process.stderr.read() if process.stderr else line
    go.touch()
    results = []
    for process in approvers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    winners = [r for r in results if r["ok"]]
    losers = [r for r in results if not r["ok"]]
    assert len(winners) == 1 and len(losers) == 1, results
    assert (
        "already approved" in losers[0]["error"] or "decided by someone else" in losers[0]["error"]
    )
    store = IncidentStore(settings.store.incidents_db)
    record = store.approval(incident_id)
    assert record is not None and record.decided_by == winners[0]["by"]
    assert store.summary(incident_id).status is IncidentStatus.RESOLVED
    assert len(ActionLog(settings.store.incidents_db).entries(incident_id)) == 1, "ran once"
    decisions = [e for e in store.timeline(incident_id) if e.event.startswith("approved by")]
    assert [e.event for e in decisions] == [f"approved by {winners[0]['by']} via slack"]
