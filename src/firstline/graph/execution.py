"""Runs one action at most once, across processes and crashes.

The idempotency key is written to the store *before* the executor is called. If a key is
already there, the action is not run again: a finished record is reported as a duplicate,
and a record left 'started' (a crash mid-action) is reported as unknown, for verification
to judge from the target's real state instead of blindly re-running it.
"""

from __future__ import annotations

from firstline.actions.catalog import CATALOG
from firstline.domain.action import ActionResult, ActionStatus, RemediationAction
from firstline.graph.deps import GraphDeps
from firstline.policy.schema import Mode


def _refusal(action: RemediationAction, deps: GraphDeps) -> str | None:
    """The policy, checked again immediately before execution."""
    if deps.policy.mode is Mode.OBSERVE:
        return "policy mode is observe"
    if not CATALOG[action.type].automatable:
        return f"{action.type.value} is never executed automatically"
    return None


async def execute_once(
    incident_id: str, action: RemediationAction, attempt: int, deps: GraphDeps
) -> ActionResult:
    key = action.idempotency_key(incident_id, attempt)
    started = deps.clock()

    def result(status: ActionStatus, detail: str) -> ActionResult:
        return ActionResult(
            action=action,
            idempotency_key=key,
            status=status,
            detail=detail,
            started_at=started,
            finished_at=deps.clock(),
        )

    if (refusal := _refusal(action, deps)) is not None:
        return result(ActionStatus.REFUSED, refusal)
    if not deps.store.begin_action(key, incident_id, action):
        previous = deps.store.ledger_entry(key)
        state = previous.status if previous else "unknown"
        detail = (
            f"already recorded as {state}; not executed again"
            if state != "started"
            else "a previous run started it and did not finish; not re-run, verification decides"
        )
        return result(ActionStatus.SKIPPED_DUPLICATE, detail)
    try:
        outcome = await deps.executor.execute(action, key)
    except Exception as exc:  # executor failures are results, not crashes
        deps.store.finish_action(key, ActionStatus.FAILED, f"{type(exc).__name__}: {exc}")
        return result(ActionStatus.FAILED, f"{type(exc).__name__}: {exc}")
    status = ActionStatus.SUCCEEDED if outcome.ok else ActionStatus.FAILED
    deps.store.finish_action(key, status, outcome.detail)
    return result(status, outcome.detail)
