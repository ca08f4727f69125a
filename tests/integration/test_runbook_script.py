"""A policy runbook end to end: a bundled disk-pressure incident, whose pattern alone only
escalates with manual steps, runs the operator's cleanup script through the real script
executor, and the decision, the audit trail, the ledger and the report name the runbook."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from firstline.domain.action import ActionStatus, ActionType
from firstline.domain.decision import Outcome
from firstline.graph.report import render_text
from firstline.policy.schema import Mode
from firstline.store.action_log import ActionLog
from firstline.store.audit import AuditKind, AuditLog
from firstline.wiring.runtime import build_live_executor, open_runtime
from firstline.wiring.settings import Settings, load_settings
from tests.conftest import SCENARIOS

pytestmark = pytest.mark.integration

DISK = SCENARIOS / "disk-pressure-node-ephemeral-storage"
NODE = "ip-10-0-4-21.eu-west-1.compute.internal"

# Records its arguments and the action key: what the runbook made firstline run.
CLEANUP = """#!/bin/sh
out="$(dirname "$0")/../ran"
printf '%s\\n' "$@" > "$out"
printf 'key=%s\\n' "$FIRSTLINE_ACTION_KEY" >> "$out"
echo "pruned images and rotated logs on $2"
"""


def _setup(tmp_path: Path, mountpoint_matcher: str) -> Path:
    scripts = tmp_path / "runbooks"
    scripts.mkdir(mode=0o755)
    script = scripts / "cleanup-node-disk"
    script.write_text(CLEANUP)
    script.chmod(0o755)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        yaml.safe_dump(
            {
                "mode": "auto",
                "runbooks": [
                    {
                        "id": "node-disk-cleanup",
                        "when": {
                            "pattern": "disk_pressure",
                            "alert": [mountpoint_matcher],
                            "target": ["kind=node"],
                        },
                        "action": "custom_script",
                        "parameters": {
                            "script": "cleanup-node-disk",
                            "mountpoint": "{{ labels.mountpoint }}",
                            "device": "{{ labels.device }}",
                        },
                        "risk": "low",
                        "description": "our image prune and log rotation, proven on every node",
                    }
                ],
            }
        )
    )
    return policy


def _settings(tmp_path: Path, policy: Path) -> Settings:
    return load_settings(
        store={"data_dir": tmp_path / "data"},
        policy_file=policy,
        actions={"scripts": {"enabled": True, "directory": tmp_path / "runbooks"}},
    )


async def test_the_operators_script_runs_and_every_record_names_the_runbook(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, _setup(tmp_path, "mountpoint=/"))
    async with open_runtime(
        settings, scenario=DISK, mode=Mode.AUTO, executor=build_live_executor(settings)
    ) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=DISK)
    state = outcome.state
    first = state.decisions[0]
    assert first.outcome is Outcome.AUTO_REMEDIATE, first.reason
    assert [(a.type, a.runbook) for a in first.actions] == [
        (ActionType.CUSTOM_SCRIPT, "node-disk-cleanup")
    ]
    assert "runbook node-disk-cleanup" in first.reason

    # the real program ran once, with the alert's labels as its arguments
    ran = (tmp_path / "ran").read_text().splitlines()
    assert ran[:3] == [f"--target=node//{NODE}", "--device=/dev/nvme0n1p1", "--mountpoint=/"]
    result = state.action_results[0]
    assert result.status is ActionStatus.SUCCEEDED, result.detail
    assert ran[3] == f"key={result.idempotency_key}"

    db = settings.store.incidents_db
    decision = AuditLog(db).records(state.incident_id, AuditKind.DECISION)[0]
    assert decision.details["actions"][0]["runbook"] == "node-disk-cleanup"
    [entry] = ActionLog(db).entries(state.incident_id)
    assert entry.action.runbook == "node-disk-cleanup" and entry.status == "succeeded"
    assert "[runbook node-disk-cleanup]" in render_text(state)


async def test_a_runbook_that_does_not_match_leaves_the_escalation(tmp_path: Path) -> None:
    settings = _settings(tmp_path, _setup(tmp_path, "mountpoint=/var/lib/docker"))
    async with open_runtime(
        settings, scenario=DISK, mode=Mode.AUTO, executor=build_live_executor(settings)
    ) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=DISK)
    first = outcome.state.decisions[0]
    assert first.outcome is Outcome.ESCALATE
    assert [a.type for a in first.actions] == [ActionType.MANUAL_ONLY]
    assert not (tmp_path / "ran").exists()
