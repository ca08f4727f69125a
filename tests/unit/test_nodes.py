"""Each node on its own: state in, partial update out, against a replayed scenario."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from firstline.actions.base import ExecutionOutcome
from firstline.actions.replay import ReplayExecutor
from firstline.detection.detectors import get_detector
from firstline.domain.action import ActionStatus, RemediationAction
from firstline.domain.alert import Severity
from firstline.domain.decision import Outcome
from firstline.domain.evidence import EvidenceStatus
from firstline.domain.incident import IncidentStatus
from firstline.graph.context import GraphContext
from firstline.graph.nodes.analyze import analyze_evidence
from firstline.graph.nodes.conclude import conclude_incident, escalate_incident, resolve_incident
from firstline.graph.nodes.decide import decide_outcome
from firstline.graph.nodes.gather_evidence import gather_evidence
from firstline.graph.nodes.remediate import remediate
from firstline.graph.nodes.triage import triage_alert
from firstline.graph.nodes.verify import verify_fix
from firstline.graph.state import IncidentState
from firstline.notify.base import Notification
from firstline.policy.schema import Mode, Policy
from firstline.reasoning.base import ReasoningInput
from firstline.scenarios.loader import load_bundle
from firstline.scenarios.world import ReplayWorld
from firstline.sources.replay import ReplaySource
from firstline.store.audit import AuditKind
from tests.conftest import OOM
from tests.unit.builders import alert, graph_context


class Inbox:
    name = "inbox"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        self.sent.append(notification)


class Broken:
    name = "broken"

    async def send(self, notification: Notification) -> None:
        raise ConnectionError("smtp down")


@pytest.fixture
def world() -> ReplayWorld:
    return ReplayWorld(load_bundle(OOM))


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def ctx(tmp_path: Path, world: ReplayWorld, inbox: Inbox) -> GraphContext:
    return graph_context(
        tmp_path / "incidents.sqlite",
        ReplayExecutor(world),
        source=ReplaySource(world),
        notifiers=[inbox],
        evidence_clock=lambda: world.now,
    )


def apply(state: IncidentState, update: dict[str, Any]) -> IncidentState:
    """What LangGraph does with an update: replace fields, extend the add-reduced lists."""
    merged = state.model_dump()
    for key, value in update.items():
        if key in ("action_results", "verifications", "timeline", "analyses", "decisions"):
            merged[key] = [*getattr(state, key), *value]
        elif key != "notes":
            merged[key] = value
    return IncidentState.model_validate(merged)


@pytest.fixture
def start(ctx: GraphContext, world: ReplayWorld) -> IncidentState:
    primary = world.bundle.primary_alert
    ctx.store.create("inc-t", primary.name, primary.fingerprint, None)
    return IncidentState(incident_id="inc-t", alert=primary)


async def through(state: IncidentState, ctx: GraphContext, *nodes: Any) -> IncidentState:
    for node in nodes:
        state = apply(state, await node(state, ctx))
    return state


async def test_triage_sets_severity_from_label_and_candidates(
    start: IncidentState, ctx: GraphContext
) -> None:
    update = await triage_alert(start, ctx)
    assert update["severity"] is Severity.MEDIUM  # label "warning"
    assert "oom_kill_loop" in update["candidates"]
    assert update["status"] is IncidentStatus.INVESTIGATING
    assert update["notes"]


async def test_triage_without_label_uses_the_pattern_default(ctx: GraphContext) -> None:
    bare = alert("KubePodCrashLooping")
    update = await triage_alert(IncidentState(incident_id="x", alert=bare), ctx)
    assert update["severity"] is Severity.HIGH
    assert "default" in update["severity_reason"]


async def test_gather_evidence_collects_and_annotates(
    start: IncidentState, ctx: GraphContext
) -> None:
    state = await through(start, ctx, triage_alert, gather_evidence)
    assert state.evidence is not None
    memory = state.evidence.metric("memory_working_set")
    assert memory is not None and memory.anomalous
    assert memory.provenance.query.startswith("max(container_memory_working_set_bytes")
    assert 'namespace="shop"' in memory.provenance.query
    assert state.evidence.pods()


class FailingSource(ReplaySource):
    async def logs(self, scope: Any) -> Any:
        raise ConnectionError("loki unreachable")

    async def cluster_state(self, scope: Any) -> Any:
        await asyncio.sleep(5)


async def test_a_failing_source_becomes_error_evidence(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import firstline.graph.nodes.gather_evidence as node_module
    from firstline.graph import gathering

    async def quick(*args: Any, **kw: Any) -> Any:
        return await gathering.gather(*args, source_timeout=0.2, budget_seconds=5)

    monkeypatch.setattr(node_module, "gather", quick)
    broken = replace(ctx, source=FailingSource(world))
    state = await through(start, broken, triage_alert, gather_evidence)
    assert state.evidence is not None
    by_id = {i.id: i for i in state.evidence.items}
    assert by_id["logs"].status is EvidenceStatus.ERROR
    assert "loki unreachable" in (by_id["logs"].reason or "")
    assert by_id["cluster"].status is EvidenceStatus.ERROR
    assert "no answer within" in (by_id["cluster"].reason or "")


async def test_analyze_ranks_hypotheses(start: IncidentState, ctx: GraphContext) -> None:
    state = await through(start, ctx, triage_alert, gather_evidence, analyze_evidence)
    assert state.analysis is not None and state.analysis.top is not None
    assert state.analysis.top.pattern == "oom_kill_loop"
    assert state.analyses == [state.analysis]


class ExplodingReasoner:
    name = "exploding"

    async def analyze(self, request: ReasoningInput) -> Any:
        raise RuntimeError("model returned garbage")


async def test_a_failing_reasoner_yields_no_hypothesis(
    start: IncidentState, ctx: GraphContext
) -> None:
    broken = replace(ctx, reasoner=ExplodingReasoner())
    update = await analyze_evidence(start, broken)
    assert update["analysis"].top is None
    assert any("reasoner failed" in event for event, _ in update["notes"])


async def test_decide_applies_the_policy(start: IncidentState, ctx: GraphContext) -> None:
    state = await through(start, ctx, triage_alert, gather_evidence, analyze_evidence)
    auto = await decide_outcome(state, ctx)
    assert auto["decision"].outcome is Outcome.AUTO_REMEDIATE
    other = state.model_copy(update={"incident_id": "inc-other"})  # not decided yet
    approve = await decide_outcome(other, replace(ctx, policy=Policy()))
    assert approve["decision"].outcome is Outcome.REQUEST_APPROVAL
    assert approve["status"] is IncidentStatus.AWAITING_APPROVAL


async def test_a_recorded_decision_is_not_taken_again(
    start: IncidentState, ctx: GraphContext
) -> None:
    # a crash after the decision was audited but before the step was checkpointed: the
    # resumed run reruns decide on the same state, and must reuse the recorded decision
    state = await through(start, ctx, triage_alert, gather_evidence, analyze_evidence)
    first = await decide_outcome(state, ctx)
    again = await decide_outcome(state, replace(ctx, policy=Policy()))  # rules changed since
    assert again["decision"] == first["decision"]
    decisions = ctx.audit.records(state.incident_id, AuditKind.DECISION)
    assert len(decisions) == 1 and decisions[0].details["round"] == 1
    # the next round (after a failed verification) decides afresh
    later = state.model_copy(update={"decisions": [first["decision"]]})
    third = await decide_outcome(later, replace(ctx, policy=Policy()))
    assert third["decision"].outcome is Outcome.REQUEST_APPROVAL
    assert len(ctx.audit.records(state.incident_id, AuditKind.DECISION)) == 2


async def _decided(start: IncidentState, ctx: GraphContext) -> IncidentState:
    return await through(
        start, ctx, triage_alert, gather_evidence, analyze_evidence, decide_outcome
    )


async def test_remediate_runs_each_action_once(start: IncidentState, ctx: GraphContext) -> None:
    state = await _decided(start, ctx)
    first = await remediate(state, ctx)
    [result] = first["action_results"]
    assert result.status is ActionStatus.SUCCEEDED
    again = await remediate(state, ctx)  # same state = same attempt = same key
    assert again["action_results"][0].status is ActionStatus.SKIPPED_DUPLICATE
    assert len(ctx.executor.executed) == 1  # type: ignore[attr-defined]
    assert ctx.ledger.entries("inc-t")[0].status == "succeeded"


class RaisingExecutor(ReplayExecutor):
    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        raise PermissionError("forbidden: cannot patch deployments")


async def test_an_executor_error_is_a_failed_result(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld
) -> None:
    state = await _decided(start, ctx)
    update = await remediate(state, replace(ctx, executor=RaisingExecutor(world)))
    [result] = update["action_results"]
    assert result.status is ActionStatus.FAILED
    assert "forbidden" in result.detail


async def test_policy_is_checked_again_before_execution(
    start: IncidentState, ctx: GraphContext
) -> None:
    state = await _decided(start, ctx)
    update = await remediate(state, replace(ctx, policy=Policy(mode=Mode.OBSERVE)))
    assert update["action_results"][0].status is ActionStatus.REFUSED
    assert ctx.ledger.entries("inc-t") == []


async def test_verify_passes_once_the_fix_took_effect(
    start: IncidentState, ctx: GraphContext
) -> None:
    state = await through(await _decided(start, ctx), ctx, remediate, verify_fix)
    assert state.verifications[-1].resolved
    assert state.failed_attempts == []


async def test_verify_fails_while_the_alert_fires(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld
) -> None:
    state = await through(await _decided(start, ctx), ctx, remediate)
    world.state.alert_firing = True  # the fix did not help
    state = await through(state, ctx, verify_fix)
    assert not state.verifications[-1].resolved
    assert [a.pattern for a in state.failed_attempts] == ["oom_kill_loop"]


class NoAlertState(ReplaySource):
    async def alert_firing(self, alert: Any) -> bool | None:
        return None


async def test_verify_falls_back_to_metrics_when_the_alert_state_is_unknown(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld
) -> None:
    blind = replace(ctx, source=NoAlertState(world))
    state = await through(await _decided(start, blind), blind, remediate, verify_fix)
    verification = state.verifications[-1]
    assert verification.resolved
    assert "metrics are back to normal" in verification.reason


async def test_verify_does_not_claim_success_without_a_successful_action(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld
) -> None:
    failing = replace(ctx, executor=RaisingExecutor(world))
    world.state.alert_firing = False  # even if the alert went quiet by itself
    state = await through(await _decided(start, failing), failing, remediate, verify_fix)
    assert not state.verifications[-1].resolved


async def test_terminal_nodes_set_status_and_notify(
    start: IncidentState, ctx: GraphContext, inbox: Inbox
) -> None:
    state = await _decided(start, ctx)
    assert (await resolve_incident(state, ctx))["status"] is IncidentStatus.RESOLVED
    assert (await escalate_incident(state, ctx))["status"] is IncidentStatus.ESCALATED
    concluded = await conclude_incident(state, ctx)
    assert concluded["status"] is IncidentStatus.RECOMMENDED
    assert [n.kind for n in inbox.sent] == ["resolved", "escalation", "recommendation"]
    escalation = inbox.sent[1]
    assert "oom_kill_loop" in escalation.body and escalation.details["rule"]


async def test_a_broken_notifier_is_a_timeline_note_not_a_crash(
    start: IncidentState, ctx: GraphContext, inbox: Inbox
) -> None:
    noisy = replace(ctx, notifiers=[Broken(), inbox])
    update = await escalate_incident(await _decided(start, ctx), noisy)
    events = [event for event, _ in update["notes"]]
    assert "notification via broken failed" in events
    assert len(inbox.sent) == 1, "the working notifier still got it"


async def test_the_overall_budget_cancels_what_is_still_running(
    start: IncidentState, world: ReplayWorld
) -> None:
    from firstline.graph.gathering import gather, scope_for

    class Slow(ReplaySource):
        async def related_alerts(self, scope: Any) -> Any:
            await asyncio.sleep(10)

    alert_ = start.alert
    evidence = await gather(
        Slow(world), scope_for(alert_, world.now, __import__("datetime").timedelta(hours=1)), [],
        get_detector("robust_shift"), source_timeout=10, budget_seconds=0.3,
    )  # fmt: skip
    by_id = {i.id: i for i in evidence.items}
    assert "budget ran out" in (by_id["related_alerts"].reason or "")
    assert by_id["pods"].status is EvidenceStatus.OK, "what answered in time is kept"


class UnreachableAlertmanager(ReplaySource):
    """The alert's state cannot be read (connection refused, or an answer that is not JSON)."""

    async def alert_firing(self, alert: Any) -> bool | None:
        raise ConnectionError("alertmanager: connection refused")


class UnreachableEverything(UnreachableAlertmanager):
    async def metric(self, query: Any, scope: Any) -> Any:
        raise ValueError("prometheus answered garbage: b'<html>502 Bad Gateway'")


async def test_verify_with_the_alert_state_unreadable_proves_the_fix_by_metrics_only(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld
) -> None:
    blind = replace(ctx, source=UnreachableAlertmanager(world))
    state = await through(await _decided(start, blind), blind, remediate, verify_fix)
    verification = state.verifications[-1]
    # an unreadable alert is "unknown", never "not firing": only the metrics may prove it
    assert "alert still firing: unknown" in verification.checks
    assert verification.resolved and "metrics are back to normal" in verification.reason
    world.state.alert_firing = True
    assert (await verify_fix(state, blind))["verifications"][0].resolved, "metrics decide"


async def test_verify_never_claims_resolved_when_nothing_can_be_read(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld
) -> None:
    blind = replace(ctx, source=UnreachableEverything(world))
    world.state.alert_firing = False  # whatever the world did, nothing can show it
    state = await through(await _decided(start, blind), blind, remediate, verify_fix)
    verification = state.verifications[-1]
    assert not verification.resolved
    assert verification.reason == "nothing could confirm the fix; not claiming success"
    assert verification.checks == ["alert still firing: unknown"], "a failed query is no reading"


class QuietAfter(ReplaySource):
    """The alert's condition still holds for the first `looks` checks, as while a rollout
    finishes or a rule's rate window drains, then goes quiet."""

    def __init__(self, world: ReplayWorld, looks: int) -> None:
        super().__init__(world)
        self.left = looks
        self.asked = 0

    async def alert_firing(self, alert: Any) -> bool | None:
        self.asked += 1
        self.left -= 1
        return self.left >= 0


def _patient(ctx: GraphContext, source: ReplaySource, timeout: float) -> GraphContext:
    graph = ctx.settings.model_copy(
        update={"verify_timeout_seconds": timeout, "verify_poll_seconds": 0.01}
    )
    return replace(ctx, source=source, settings=graph)


async def test_verify_keeps_looking_until_the_alert_goes_quiet(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld
) -> None:
    source = QuietAfter(world, looks=3)
    patient = _patient(ctx, source, timeout=30)
    state = await through(await _decided(start, patient), patient, remediate, verify_fix)
    verification = state.verifications[-1]
    assert verification.resolved, verification.reason
    assert source.asked == 4 and "after 4 checks" in verification.reason


async def test_verify_gives_up_at_its_deadline(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld
) -> None:
    source = QuietAfter(world, looks=10_000)
    patient = _patient(ctx, source, timeout=0.2)
    state = await through(await _decided(start, patient), patient, remediate, verify_fix)
    assert not state.verifications[-1].resolved
    assert 2 <= source.asked < 10_000, "looked again, and stopped at the deadline"


async def test_verify_without_a_timeout_looks_once(
    start: IncidentState, ctx: GraphContext, world: ReplayWorld
) -> None:
    source = QuietAfter(world, looks=1)
    once = replace(ctx, source=source)
    state = await through(await _decided(start, once), once, remediate, verify_fix)
    assert not state.verifications[-1].resolved and source.asked == 1
