"""Runs one action at most once, across processes and crashes, under the policy.

For each action of a remediation round, in this order:

1. The ledger already has its key: a finished entry is a duplicate, not run again; an entry
   left `started` (a crash mid-action) goes to reconcile (below).
2. The policy, checked again now (mode, catalog, and the guard rails of policy/actions.py):
   a refusal names its rule and nothing runs.
3. Preflight: a problem refuses the action; "already in the wanted state" is a no-op result,
   nothing executed and nothing written to the ledger.
4. Dry run: the exact change, recorded with the action (audit log and action details).
5. The idempotency key is written to the ledger as `started`, *then* the executor runs.
6. The outcome, the undo the executor reports, and what it touched are recorded.

Reconcile, for an entry left `started`: the executor reads the target's real state.
Applied: recorded as succeeded (by reconcile), not re-run. Not applied: run again, once
(an atomic claim makes it once across processes). Unknown, or already re-run once: not
run; the result says a person must check, and no further round starts.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

from firstline.actions.base import ExecutionOutcome, ReconcileResult, Reconciliation
from firstline.actions.catalog import CATALOG
from firstline.domain.action import ActionResult, ActionStatus, RemediationAction
from firstline.domain.alert import Severity
from firstline.graph.context import GraphContext
from firstline.graph.state import IncidentState
from firstline.policy.actions import (
    ActionContext,
    PastAction,
    Refusal,
    check_action,
    kill_switch,
    longest_window,
)
from firstline.policy.schema import Mode
from firstline.store.audit import AuditKind

NEEDS_PERSON = "needs a person"
NO_OP = "no-op"
_UNFINISHED = "a previous run started it and did not finish"

ResultOf = Callable[[ActionStatus, str], ActionResult]


def needs_person(result: ActionResult) -> bool:
    return result.detail.startswith(NEEDS_PERSON)


def guard_context(
    state: IncidentState, ctx: GraphContext, *, exclude_key: str | None = None
) -> ActionContext:
    """What the guard rails need to know now: the clock, recent actions of every incident
    (rate limits), this incident's actions (blast radius), the environment (kill switch).
    `exclude_key` leaves out the action being checked, if a crashed run recorded it."""
    now = ctx.clock()
    window = longest_window(ctx.policy)
    history = []
    if window.total_seconds() > 0:
        history = [
            PastAction(
                e.idempotency_key, e.incident_id, e.action.type, e.action.target, e.started_at
            )
            for e in ctx.ledger.started_since(now - window)
            if e.idempotency_key != exclude_key
        ]
    mine = [e for e in ctx.ledger.entries(state.incident_id) if e.idempotency_key != exclude_key]
    return ActionContext(
        alert=state.alert,
        severity=state.severity or Severity.MEDIUM,
        now=now,
        history=history,
        incident_actions=len(mine),
        environ=dict(os.environ),
    )


def _refusal(
    state: IncidentState, action: RemediationAction, key: str, ctx: GraphContext
) -> Refusal | None:
    """The policy, checked again immediately before execution."""
    if ctx.policy.mode is Mode.OBSERVE:
        return Refusal("mode", "policy mode is observe")
    if not CATALOG[action.type].automatable:
        return Refusal("catalog", f"{action.type.value} is never executed automatically")
    return check_action(action, guard_context(state, ctx, exclude_key=key), ctx.policy)


def _audit(
    ctx: GraphContext, state: IncidentState, kind: AuditKind, details: dict[str, Any]
) -> None:
    ctx.audit.append(state.incident_id, kind, details, at=ctx.clock())


async def execute_once(
    state: IncidentState, action: RemediationAction, attempt: int, ctx: GraphContext
) -> ActionResult:
    key = action.idempotency_key(state.incident_id, attempt)
    started = ctx.clock()

    def result(status: ActionStatus, detail: str) -> ActionResult:
        return ActionResult(
            action=action,
            idempotency_key=key,
            status=status,
            detail=detail,
            started_at=started,
            finished_at=ctx.clock(),
        )

    previous = ctx.ledger.entry(key)
    if previous is not None and previous.status != "started":
        return result(
            ActionStatus.SKIPPED_DUPLICATE,
            f"already recorded as {previous.status}; not executed again",
        )
    if previous is not None:
        return await _after_crash(state, action, key, ctx, result)
    return await _attempt(state, action, key, ctx, result, rerun=False)


async def _attempt(
    state: IncidentState,
    action: RemediationAction,
    key: str,
    ctx: GraphContext,
    result: ResultOf,
    *,
    rerun: bool,
) -> ActionResult:
    base = {"action": action.model_dump(mode="json"), "idempotency_key": key}
    if (refusal := _refusal(state, action, key, ctx)) is not None:
        _audit(
            ctx,
            state,
            AuditKind.REFUSAL,
            base | {"at": "execution", "rule": refusal.rule, "reason": refusal.reason},
        )
        return result(ActionStatus.REFUSED, str(refusal))
    problem, diff = "", ""
    try:
        checked = await ctx.executor.preflight(action)
        if not checked.ok:
            problem = "; ".join(checked.problems) or "the executor refused without a reason"
        elif not checked.no_change:
            diff = await ctx.executor.dry_run(action)
    except Exception as exc:  # a backend that cannot even check is a refusal, not a crash
        problem = f"could not check or dry-run: {type(exc).__name__}: {exc}"
    if problem:
        _audit(
            ctx,
            state,
            AuditKind.REFUSAL,
            base | {"at": "preflight", "rule": "preflight", "reason": problem},
        )
        return result(ActionStatus.REFUSED, f"preflight: {problem}")
    if checked.no_change:
        detail = f"{NO_OP}: the target is already in the wanted state; nothing executed"
        _audit(ctx, state, AuditKind.ACTION, base | {"result": NO_OP, "detail": detail})
        if rerun:  # after the audit record, as in _run
            ctx.ledger.finish_action(key, ActionStatus.SUCCEEDED, detail)
        return result(ActionStatus.SUCCEEDED, detail)
    _audit(ctx, state, AuditKind.DRY_RUN, base | {"diff": diff})
    if rerun:
        if not ctx.ledger.claim_rerun(key):
            return result(ActionStatus.SKIPPED_DUPLICATE, "another process is re-running it")
    elif not ctx.ledger.begin_action(key, state.incident_id, action):
        return result(ActionStatus.SKIPPED_DUPLICATE, "another process recorded it first")
    ctx.ledger.record_dry_run(key, diff)
    return await _run(state, action, key, ctx, result, diff)


async def _run(
    state: IncidentState,
    action: RemediationAction,
    key: str,
    ctx: GraphContext,
    result: ResultOf,
    diff: str,
) -> ActionResult:
    try:
        outcome = await ctx.executor.execute(action, key)
    except Exception as exc:  # executor failures are results, not crashes
        outcome = ExecutionOutcome(ok=False, detail=f"{type(exc).__name__}: {exc}")
    status = ActionStatus.SUCCEEDED if outcome.ok else ActionStatus.FAILED
    # The audit record goes before the ledger is marked finished: a process killed between
    # the two leaves the entry 'started', so whoever resumes reconciles it (and audits that).
    # The other order let a kill leave a finished action that no audit record names.
    ctx.ledger.record_outcome(key, outcome.undo, dict(outcome.report))
    _audit(
        ctx,
        state,
        AuditKind.ACTION,
        {
            "action": action.model_dump(mode="json"),
            "idempotency_key": key,
            "executor": ctx.executor.name,
            "dry_run": diff,
            "result": status.value,
            "detail": outcome.detail,
            "undo": outcome.undo.model_dump(mode="json") if outcome.undo else None,
            "report": outcome.report,
        },
    )
    ctx.ledger.finish_action(key, status, outcome.detail)
    return result(status, outcome.detail)


async def _after_crash(
    state: IncidentState, action: RemediationAction, key: str, ctx: GraphContext, result: ResultOf
) -> ActionResult:
    try:
        verdict = await ctx.executor.reconcile(action, key)
    except Exception as exc:
        verdict = ReconcileResult(
            state=Reconciliation.UNKNOWN, detail=f"reconcile failed: {type(exc).__name__}: {exc}"
        )
    previous = ctx.ledger.details(key)
    ctx.ledger.record_reconcile(key, verdict.state.value)
    _audit(
        ctx,
        state,
        AuditKind.RECONCILE,
        {
            "action": action.model_dump(mode="json"),
            "idempotency_key": key,
            "state": verdict.state.value,
            "detail": verdict.detail,
        },
    )
    if verdict.state is Reconciliation.APPLIED:
        ctx.ledger.finish_action(
            key, ActionStatus.SUCCEEDED, f"succeeded (by reconcile): {verdict.detail}"
        )
        return result(
            ActionStatus.SKIPPED_DUPLICATE,
            f"{_UNFINISHED}; reconcile: applied ({verdict.detail}); recorded as succeeded,"
            " not re-run",
        )
    already = previous is not None and previous.reruns > 0
    if verdict.state is Reconciliation.NOT_APPLIED and not already:
        return await _attempt(state, action, key, ctx, result, rerun=True)
    why = verdict.detail if not already else "not applied, but it was already re-run once"
    return result(
        ActionStatus.FAILED,
        f"{NEEDS_PERSON}: {_UNFINISHED}; reconcile could not confirm it ({why}); not re-run:"
        f" check {action.target} by hand",
    )


def undo_key(key: str) -> str:
    return hashlib.sha256(f"undo:{key}".encode()).hexdigest()[:24]


async def undo_round(
    state: IncidentState, results: list[ActionResult], ctx: GraphContext
) -> list[tuple[str, str]]:
    """Undo this round's successful actions that recorded an undo. Each undo runs at most
    once (its own ledger key), its own undo is never run, and only the kill switch can stop
    it: an undo restores the state from before firstline acted."""
    notes: list[tuple[str, str]] = []
    for done in results:
        if done.status is not ActionStatus.SUCCEEDED or done.detail.startswith(NO_OP):
            continue
        details = ctx.ledger.details(done.idempotency_key)
        undo = details.undo if details else None
        if undo is None:
            notes.append((f"no undo for {done.action.describe()}", "the executor recorded none"))
            continue
        notes.append(await _undo_one(state, done, undo, ctx))
    return notes


async def _undo_one(
    state: IncidentState, done: ActionResult, undo: RemediationAction, ctx: GraphContext
) -> tuple[str, str]:
    key = undo_key(done.idempotency_key)
    base = {
        "undoes": done.idempotency_key,
        "action": undo.model_dump(mode="json"),
        "idempotency_key": key,
    }
    event = f"undo {done.action.describe()}"
    if (stop := kill_switch(ctx.policy, os.environ)) is not None:
        _audit(
            ctx,
            state,
            AuditKind.REFUSAL,
            base | {"at": "undo", "rule": stop.rule, "reason": stop.reason},
        )
        return f"{event}: refused", str(stop)
    if not ctx.ledger.begin_action(key, state.incident_id, undo):
        return f"{event}: skipped", "already undone (or being undone); never twice"
    try:
        outcome = await ctx.executor.execute(undo, key)
    except Exception as exc:
        outcome = ExecutionOutcome(ok=False, detail=f"{type(exc).__name__}: {exc}")
    status = ActionStatus.SUCCEEDED if outcome.ok else ActionStatus.FAILED
    _audit(ctx, state, AuditKind.UNDO, base | {"result": status.value, "detail": outcome.detail})
    ctx.ledger.finish_action(key, status, outcome.detail)  # after the audit, as in _run
    return f"{event}: {status.value}", f"{undo.describe()}: {outcome.detail}"
