"""execute_once step by step: policy re-check, preflight, dry run, ledger, undo, reconcile.

The executor here is a scripted fake that records every call (FakeExecutor): the real
executors are tested against real backends by their own suites. Store, ledger and audit
log are the real SQLite ones.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from firstline.actions.base import (
    ExecutionOutcome,
    Preflight,
    ReconcileResult,
    Reconciliation,
)
from firstline.actions.routing import RoutingExecutor
from firstline.domain.action import ActionStatus, ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.graph.context import GraphContext
from firstline.graph.execution import execute_once, undo_round
from firstline.graph.state import IncidentState
from firstline.policy.actions import KILL_SWITCH_ENV
from tests.unit.builders import action, alert, graph_context

CHECKOUT = Target(kind="deployment", name="checkout", namespace="shop")
SCALE_BACK = RemediationAction(
    type=ActionType.SCALE, target=CHECKOUT, parameters={"replicas": 3}, risk="medium"
)


class FakeExecutor:
    """Scripted stand-in for a real executor; records every call in `calls`."""

    def __init__(
        self,
        name: str = "fake",
        types: set[ActionType] | None = None,
        preflight: Preflight | None = None,
        outcome: ExecutionOutcome | None = None,
        reconcile: Reconciliation | None = None,
    ) -> None:
        self.name = name
        self.types = types
        self.preflight_result = preflight or Preflight(ok=True)
        self.outcome = outcome or ExecutionOutcome(ok=True, detail="done", undo=SCALE_BACK)
        self.reconcile_state = reconcile
        self.calls: list[tuple[str, str]] = []

    def supports(self, action_type: ActionType) -> bool:
        return self.types is None or action_type in self.types

    async def preflight(self, action: RemediationAction) -> Preflight:
        self.calls.append(("preflight", action.type.value))
        return self.preflight_result

    async def dry_run(self, action: RemediationAction) -> str:
        self.calls.append(("dry_run", action.type.value))
        return f"would {action.describe()}: replicas 2 -> 3"

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        self.calls.append(("execute", action.type.value))
        return self.outcome

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        self.calls.append(("reconcile", action.type.value))
        if self.reconcile_state is None:
            raise ConnectionError("api server unreachable")
        return ReconcileResult(
            state=self.reconcile_state, detail=f"target says {self.reconcile_state}"
        )

    @property
    def executed(self) -> int:
        return sum(1 for call, _ in self.calls if call == "execute")


@pytest.fixture
def fake() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def ctx(tmp_path: Path, fake: FakeExecutor) -> GraphContext:
    context = graph_context(tmp_path / "incidents.sqlite", fake)
    context.store.create("inc-t", "HighErrorRate", "fp", None)
    return context


@pytest.fixture
def state() -> IncidentState:
    return IncidentState(incident_id="inc-t", alert=alert(), severity=Severity.HIGH)


def kinds(ctx: GraphContext) -> list[str]:
    return [r.kind for r in ctx.audit.records("inc-t")]


async def test_a_clean_run_dry_runs_records_then_executes(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    result = await execute_once(state, action(target=CHECKOUT), 1, ctx)
    assert result.status is ActionStatus.SUCCEEDED
    assert fake.calls == [("preflight", "restart"), ("dry_run", "restart"), ("execute", "restart")]
    [entry] = ctx.ledger.entries("inc-t")
    assert entry.status == "succeeded"
    details = ctx.ledger.details(result.idempotency_key)
    assert details is not None and details.undo == SCALE_BACK
    assert details.dry_run == "would restart deployment/shop/checkout: replicas 2 -> 3"
    assert kinds(ctx) == ["dry_run", "action"]
    recorded = ctx.audit.records("inc-t")[-1].details
    assert recorded["dry_run"].startswith("would restart") and recorded["undo"]["type"] == "scale"


async def test_a_preflight_problem_refuses_and_runs_nothing(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    fake.preflight_result = Preflight(ok=False, problems=["forbidden: cannot patch deployments"])
    result = await execute_once(state, action(target=CHECKOUT), 1, ctx)
    assert result.status is ActionStatus.REFUSED
    assert result.detail == "preflight: forbidden: cannot patch deployments"
    assert fake.executed == 0 and ctx.ledger.entries("inc-t") == []
    assert kinds(ctx) == ["refusal"]


async def test_no_change_is_a_no_op_that_executes_nothing(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    fake.preflight_result = Preflight(ok=True, no_change=True)
    result = await execute_once(state, action(target=CHECKOUT), 1, ctx)
    assert result.status is ActionStatus.SUCCEEDED and result.detail.startswith("no-op")
    assert fake.executed == 0 and ctx.ledger.entries("inc-t") == []
    assert ctx.audit.records("inc-t")[-1].details["result"] == "no-op"


async def test_the_policy_is_checked_again_at_execution(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KILL_SWITCH_ENV, "1")
    result = await execute_once(state, action(target=CHECKOUT), 1, ctx)
    assert result.status is ActionStatus.REFUSED
    assert result.detail.startswith("kill_switch: ")
    assert fake.calls == [] and ctx.ledger.entries("inc-t") == []
    refusal = ctx.audit.records("inc-t")[-1]
    assert (refusal.kind, refusal.details["rule"]) == ("refusal", "kill_switch")


async def test_an_executor_that_supports_nothing_is_refused_through_routing(
    ctx: GraphContext, state: IncidentState
) -> None:
    redis = FakeExecutor("redis", types={ActionType.CLEAR_CACHE})
    routed = replace(ctx, executor=RoutingExecutor([redis]))
    result = await execute_once(state, action(target=CHECKOUT), 1, routed)
    assert result.status is ActionStatus.REFUSED
    assert "no configured executor handles restart (configured: redis)" in result.detail
    assert redis.calls == []


async def test_routing_picks_the_first_executor_that_supports_the_type(
    ctx: GraphContext, state: IncidentState
) -> None:
    redis = FakeExecutor("redis", types={ActionType.CLEAR_CACHE})
    kube = FakeExecutor("kubernetes", types={ActionType.RESTART, ActionType.SCALE})
    fallback = FakeExecutor("fallback")
    routed = replace(ctx, executor=RoutingExecutor([redis, kube, fallback]))
    result = await execute_once(state, action(target=CHECKOUT), 1, routed)
    assert result.status is ActionStatus.SUCCEEDED
    assert (redis.executed, kube.executed, fallback.executed) == (0, 1, 0)


# -- reconcile after a crash ---------------------------------------------------------------
def crashed(ctx: GraphContext, state: IncidentState, act: RemediationAction) -> str:
    """Leave the ledger as a process killed mid-action leaves it: 'started', no finish."""
    key = act.idempotency_key(state.incident_id, 1)
    assert ctx.ledger.begin_action(key, state.incident_id, act)
    return key


async def test_reconcile_applied_records_success_without_rerunning(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    act = action(target=CHECKOUT)
    key = crashed(ctx, state, act)
    fake.reconcile_state = Reconciliation.APPLIED
    result = await execute_once(state, act, 1, ctx)
    assert fake.calls == [("reconcile", "restart")]
    assert result.status is ActionStatus.SKIPPED_DUPLICATE
    assert "did not finish" in result.detail and "reconcile: applied" in result.detail
    entry = ctx.ledger.entry(key)
    assert entry is not None and entry.status == "succeeded"
    assert entry.detail.startswith("succeeded (by reconcile)")
    assert kinds(ctx) == ["reconcile"]


async def test_reconcile_not_applied_runs_again_exactly_once(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    act = action(target=CHECKOUT)
    key = crashed(ctx, state, act)
    fake.reconcile_state = Reconciliation.NOT_APPLIED
    fake.outcome = ExecutionOutcome(ok=True, detail="restarted")
    first = await execute_once(state, act, 1, ctx)
    assert first.status is ActionStatus.SUCCEEDED and fake.executed == 1
    assert ctx.ledger.entry(key).status == "succeeded"  # type: ignore[union-attr]

    # the re-run itself is interrupted: the ledger is 'started' again...
    con = sqlite3.connect(ctx.store.path)
    con.execute("UPDATE actions SET status = 'started' WHERE idempotency_key = ?", (key,))
    con.commit()
    con.close()
    # ...and reconcile still says 'not applied': no second re-run, a person decides
    second = await execute_once(state, act, 1, ctx)
    assert fake.executed == 1
    assert second.status is ActionStatus.FAILED
    assert second.detail.startswith("needs a person") and "already re-run once" in second.detail


async def test_reconcile_unknown_never_reruns_and_asks_for_a_person(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    act = action(target=CHECKOUT)
    key = crashed(ctx, state, act)
    fake.reconcile_state = Reconciliation.UNKNOWN
    result = await execute_once(state, act, 1, ctx)
    assert fake.executed == 0
    assert result.status is ActionStatus.FAILED
    assert result.detail.startswith("needs a person: a previous run started it and did not finish")
    assert "check deployment/shop/checkout by hand" in result.detail
    assert ctx.ledger.entry(key).status == "started"  # type: ignore[union-attr]
    assert ctx.audit.records("inc-t")[-1].details["state"] == "unknown"


async def test_a_reconcile_that_raises_counts_as_unknown(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    act = action(target=CHECKOUT)
    crashed(ctx, state, act)
    fake.reconcile_state = None  # raises ConnectionError
    result = await execute_once(state, act, 1, ctx)
    assert fake.executed == 0
    assert "reconcile failed: ConnectionError" in result.detail


async def test_a_finished_entry_is_never_reconciled_or_rerun(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    act = action(target=CHECKOUT)
    await execute_once(state, act, 1, ctx)
    again = await execute_once(state, act, 1, ctx)
    assert again.status is ActionStatus.SKIPPED_DUPLICATE
    assert [c for c, _ in fake.calls].count("execute") == 1
    assert ("reconcile", "restart") not in fake.calls


# -- undo --------------------------------------------------------------------------------------
async def test_undo_runs_the_recorded_undo_once_and_never_its_undo(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    done = await execute_once(state, action(target=CHECKOUT), 1, ctx)
    notes = await undo_round(state, [done], ctx)
    assert notes[0][0] == "undo restart deployment/shop/checkout: succeeded"
    assert fake.calls[-1] == ("execute", "scale")
    again = await undo_round(state, [done], ctx)
    assert again[0][0].endswith(": skipped")
    assert fake.executed == 2  # the action and its undo; the undo's own undo never runs
    assert kinds(ctx) == ["dry_run", "action", "undo"]


async def test_undo_respects_the_kill_switch(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = await execute_once(state, action(target=CHECKOUT), 1, ctx)
    monkeypatch.setenv(KILL_SWITCH_ENV, "1")
    notes = await undo_round(state, [done], ctx)
    assert notes[0][0].endswith(": refused") and fake.executed == 1


async def test_nothing_to_undo_without_a_recorded_undo(
    ctx: GraphContext, state: IncidentState, fake: FakeExecutor
) -> None:
    fake.outcome = ExecutionOutcome(ok=True, detail="restarted")
    done = await execute_once(state, action(target=CHECKOUT), 1, ctx)
    notes = await undo_round(state, [done], ctx)
    assert notes == [("no undo for restart deployment/shop/checkout", "the executor recorded none")]
    assert fake.executed == 1


class BrokenPreflight(FakeExecutor):
    async def preflight(self, action: RemediationAction) -> Preflight:
        raise TimeoutError("api server timed out")


async def test_a_preflight_that_raises_refuses_instead_of_crashing(
    ctx: GraphContext, state: IncidentState
) -> None:
    broken = BrokenPreflight()
    result = await execute_once(state, action(target=CHECKOUT), 1, replace(ctx, executor=broken))
    assert result.status is ActionStatus.REFUSED
    assert (
        result.detail == "preflight: could not check or dry-run: TimeoutError: api server timed out"
    )
    assert broken.executed == 0 and ctx.ledger.entries("inc-t") == []


async def test_routing_cannot_reconcile_an_unsupported_type() -> None:
    routed = RoutingExecutor([FakeExecutor("redis", types={ActionType.CLEAR_CACHE})])
    verdict = await routed.reconcile(action(target=CHECKOUT), "k")
    assert verdict.state is Reconciliation.UNKNOWN
    assert not routed.supports(ActionType.RESTART) and routed.supports(ActionType.CLEAR_CACHE)
