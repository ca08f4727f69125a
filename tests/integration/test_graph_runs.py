"""Whole incident runs through the real graph, checkpointer and store (scenario replay)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from firstline.actions.catalog import make_action
from firstline.actions.replay import ReplayExecutor
from firstline.domain.action import ActionStatus, ActionType, RemediationAction, Target
from firstline.domain.hypothesis import Analysis, RootCauseHypothesis
from firstline.domain.incident import IncidentStatus
from firstline.graph.approvals import (
    AlreadyDecided,
    NotAwaitingApproval,
    claim_decision,
    submit_decision,
)
from firstline.policy.schema import Mode
from firstline.reasoning.base import ReasoningInput
from firstline.scenarios.loader import load_bundle
from firstline.scenarios.world import ReplayWorld
from firstline.store.action_log import ActionLog
from firstline.store.audit import AuditKind, AuditLog
from firstline.store.incidents import IncidentStore
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings
from tests.conftest import OOM


async def _start(settings: Settings, scenario: Path, mode: Mode) -> str:
    async with open_runtime(settings, scenario=scenario, mode=mode) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=scenario)
        return outcome.state.incident_id


async def test_auto_mode_fixes_and_verifies(settings: Settings) -> None:
    async with open_runtime(settings, scenario=OOM, mode=Mode.AUTO) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=OOM)
    state = outcome.state
    assert not outcome.paused
    assert state.status is IncidentStatus.RESOLVED
    assert [r.status for r in state.action_results] == [ActionStatus.SUCCEEDED]
    assert state.verifications[-1].resolved
    stages = [
        e.stage for e in IncidentStore(settings.store.incidents_db).timeline(state.incident_id)
    ]
    for stage in ("triage", "gather_evidence", "analyze", "decide", "remediate", "verify"):
        assert stage in stages, f"{stage} left nothing in the stored timeline"


async def test_approve_mode_pauses_then_resumes_in_a_fresh_runtime(settings: Settings) -> None:
    incident_id = await _start(settings, OOM, Mode.APPROVE)
    store = IncidentStore(settings.store.incidents_db)
    assert store.summary(incident_id).status is IncidentStatus.AWAITING_APPROVAL
    ledger = ActionLog(settings.store.incidents_db)
    assert ledger.entries(incident_id) == [], "nothing may run before approval"

    # A new runtime: new checkpointer connection, new replay world, as another process has.
    async with open_runtime(settings, incident_id=incident_id) as rt:
        result = await submit_decision(rt.runner, incident_id, approved=True, by="alice")
    assert result.outcome.state.status is IncidentStatus.RESOLVED
    assert result.outcome.state.approval is not None
    assert result.outcome.state.approval.by == "alice"
    assert len(ledger.entries(incident_id)) == 1


async def test_rejection_escalates_without_acting(settings: Settings) -> None:
    incident_id = await _start(settings, OOM, Mode.APPROVE)
    async with open_runtime(settings, incident_id=incident_id) as rt:
        result = await submit_decision(rt.runner, incident_id, approved=False, by="bob")
    assert result.outcome.state.status is IncidentStatus.ESCALATED
    assert ActionLog(settings.store.incidents_db).entries(incident_id) == []


async def test_second_decision_is_refused_and_changes_nothing(settings: Settings) -> None:
    incident_id = await _start(settings, OOM, Mode.APPROVE)
    async with open_runtime(settings, incident_id=incident_id) as rt:
        await submit_decision(rt.runner, incident_id, approved=True, by="alice")
    store = IncidentStore(settings.store.incidents_db)
    before = store.timeline(incident_id)
    async with open_runtime(settings, incident_id=incident_id) as rt:
        with pytest.raises(AlreadyDecided, match="already approved by alice"):
            await submit_decision(rt.runner, incident_id, approved=False, by="bob")
    assert store.timeline(incident_id) == before
    assert store.summary(incident_id).status is IncidentStatus.RESOLVED


async def test_approving_a_run_that_never_asked_is_refused(settings: Settings) -> None:
    incident_id = await _start(settings, OOM, Mode.AUTO)
    async with open_runtime(settings, incident_id=incident_id) as rt:
        with pytest.raises(NotAwaitingApproval, match="not waiting for approval"):
            await submit_decision(rt.runner, incident_id, approved=True, by="alice")


async def test_expired_approval_escalates_instead_of_acting(
    settings: Settings, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("mode: approve\napproval_timeout_seconds: 0.001\n")
    short = settings.model_copy(update={"policy_file": policy})
    incident_id = await _start(short, OOM, Mode.APPROVE)
    async with open_runtime(short, incident_id=incident_id) as rt:
        result = await submit_decision(rt.runner, incident_id, approved=True, by="late-larry")
    state = result.outcome.state
    assert result.expired
    assert state.status is IncidentStatus.ESCALATED
    assert state.approval is not None and state.approval.expired and not state.approval.approved
    assert ActionLog(short.store.incidents_db).entries(incident_id) == []


class NamedReplayExecutor(ReplayExecutor):
    """ReplayExecutor under another name, so the audit log shows which one acted."""

    def __init__(self, world: ReplayWorld, name: str) -> None:
        super().__init__(world)
        self.name = name


@pytest.mark.parametrize("how", ["runner default", "per call"])
async def test_a_resumed_run_acts_with_the_executor_of_the_context_it_is_resumed_with(
    settings: Settings, how: str
) -> None:
    """The graph is compiled without dependencies and gets them with each call: a run
    paused for approval and resumed in another runtime acts with the executor of the
    context it is resumed with, not the one it started with (nothing of it is
    checkpointed)."""
    bundle = load_bundle(OOM)
    starting = NamedReplayExecutor(ReplayWorld(bundle), "starting")
    async with open_runtime(settings, scenario=OOM, mode=Mode.APPROVE, executor=starting) as rt:
        paused = await rt.runner.start(bundle.primary_alert, scenario=OOM)
    assert paused.paused_at == ("request_approval",)
    incident_id = paused.state.incident_id

    async with open_runtime(settings, incident_id=incident_id) as rt:
        assert rt.world is not None
        default = rt.runner.context.executor
        resuming = NamedReplayExecutor(rt.world, "resuming")
        swapped = replace(rt.runner.context, executor=resuming)
        if how == "runner default":
            rt.runner.context = swapped
            outcome = (
                await submit_decision(rt.runner, incident_id, approved=True, by="al")
            ).outcome
        else:
            claim = await claim_decision(rt.runner, incident_id, approved=True, by="al")
            outcome = await rt.runner.resume(
                incident_id, {"approved": claim.approved, "by": claim.by}, context=swapped
            )

    assert outcome.state.status is IncidentStatus.RESOLVED
    [result] = outcome.state.action_results
    assert result.status is ActionStatus.SUCCEEDED
    assert resuming.executed == [result.idempotency_key], "the new executor acted"
    assert starting.executed == [] and getattr(default, "executed", None) == []
    [acted] = AuditLog(settings.store.incidents_db).records(incident_id, AuditKind.ACTION)
    assert acted.details["executor"] == "resuming"
    [entry] = ActionLog(settings.store.incidents_db).entries(incident_id)
    assert (entry.idempotency_key, entry.status) == (result.idempotency_key, "succeeded")


class SimulatedCrash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in firstline catches it."""


class CrashAfterActing(ReplayExecutor):
    async def execute(self, action: RemediationAction, idempotency_key: str):  # type: ignore[no-untyped-def]
        await super().execute(action, idempotency_key)
        raise SimulatedCrash()


class CountingExecutor(ReplayExecutor):
    calls = 0

    async def execute(self, action: RemediationAction, idempotency_key: str):  # type: ignore[no-untyped-def]
        CountingExecutor.calls += 1
        return await super().execute(action, idempotency_key)


async def test_resumed_remediation_does_not_execute_twice(settings: Settings) -> None:
    bundle = load_bundle(OOM)
    crashing = CrashAfterActing(ReplayWorld(bundle))
    async with open_runtime(settings, scenario=OOM, mode=Mode.AUTO, executor=crashing) as rt:
        with pytest.raises(SimulatedCrash):
            await rt.runner.start(bundle.primary_alert, scenario=OOM)
    store = IncidentStore(settings.store.incidents_db)
    incident_id = store.list_incidents()[0].id
    [entry] = ActionLog(settings.store.incidents_db).entries(incident_id)
    assert entry.status == "started", "the key must be recorded before the executor runs"

    CountingExecutor.calls = 0
    async with open_runtime(settings, incident_id=incident_id, mode=Mode.AUTO) as rt:
        counting = CountingExecutor(rt.world)  # type: ignore[arg-type]
        rt.runner.context = replace(rt.runner.context, executor=counting)
        assert await rt.runner.paused_at(incident_id) == ("remediate",)
        outcome = await rt.runner.continue_interrupted(incident_id)
    assert CountingExecutor.calls == 0
    [result] = outcome.state.action_results
    assert result.status is ActionStatus.SKIPPED_DUPLICATE
    assert "did not finish" in result.detail
    assert outcome.state.status is IncidentStatus.RESOLVED


def _without_effects(bundle_dir: Path) -> None:
    spec_path = bundle_dir / "scenario.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["effects"] = []
    spec_path.write_text(yaml.safe_dump(spec))


async def test_failed_fix_is_ruled_out_and_escalated(settings: Settings, oom_bundle: Path) -> None:
    _without_effects(oom_bundle)  # the fix changes nothing: verification fails
    async with open_runtime(settings, scenario=oom_bundle, mode=Mode.AUTO) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=oom_bundle)
    state = outcome.state
    assert state.status is IncidentStatus.ESCALATED
    assert len(state.verifications) == 1
    assert len(state.analyses) == 2, "verify must send the run back to analyze"
    assert any("already tried" in r.reason for r in state.analyses[-1].ruled_out)
    assert "did not hold" in state.conclusion


class StubbornReasoner:
    """Scripted reasoner: always proposes the same low-risk restart, however often it failed.
    It makes the verify -> analyze loop run until the bound stops it."""

    name = "stubborn"

    async def analyze(self, request: ReasoningInput) -> Analysis:
        action = make_action(
            ActionType.RESTART,
            Target(kind="deployment", name="checkout", namespace="shop"),
            rationale="scripted",
        )
        return Analysis(
            reasoner=self.name,
            hypotheses=[
                RootCauseHypothesis(
                    pattern="scripted", cause="scripted", confidence=0.9, suggested_actions=[action]
                )
            ],
        )


@pytest.mark.parametrize("max_attempts", [1, 2, 3])
async def test_verify_loop_is_bounded_by_the_setting(
    settings: Settings, oom_bundle: Path, max_attempts: int
) -> None:
    _without_effects(oom_bundle)
    bounded = settings.model_copy(
        update={"graph": settings.graph.model_copy(update={"max_verify_attempts": max_attempts})}
    )
    async with open_runtime(
        bounded, scenario=oom_bundle, mode=Mode.AUTO, reasoner=StubbornReasoner()
    ) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=oom_bundle)
    state = outcome.state
    assert state.status is IncidentStatus.ESCALATED
    assert state.attempt == max_attempts
    assert len(state.verifications) == max_attempts
    assert not any(v.resolved for v in state.verifications)
    keys = {r.idempotency_key for r in state.action_results}
    assert len(keys) == max_attempts, "each round is a new attempt with its own key"
