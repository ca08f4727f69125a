"""remediate: carry out the decided actions, each at most once, under the policy."""

from __future__ import annotations

import time

import structlog

from firstline.domain.action import ActionResult, RemediationAction
from firstline.domain.incident import IncidentStatus
from firstline.graph.context import GraphContext
from firstline.graph.execution import execute_once, needs_person
from firstline.graph.notifying import notify_acting
from firstline.graph.recording import Update
from firstline.graph.state import IncidentState

log = structlog.get_logger(__name__)


async def remediate(state: IncidentState, ctx: GraphContext) -> Update:
    assert state.decision is not None, "remediate follows decide"
    attempt = state.attempt + 1
    ctx.store.update(state.incident_id, status=IncidentStatus.REMEDIATING)
    # tell the pager firstline is acting (PagerDuty acknowledge, a Slack thread reply);
    # queued in the outbox, so a re-run of this node after a crash queues nothing twice
    acting = await notify_acting(state, ctx)
    results = [await _execute(state, action, attempt, ctx) for action in state.decision.actions]
    update: Update = {
        "attempt": attempt,
        "action_results": results,
        "status": IncidentStatus.VERIFYING,
        "notes": [
            *acting,
            *((f"{r.action.describe()}: {r.status.value}", r.detail) for r in results),
        ],
    }
    if any(needs_person(r) for r in results):
        # Nobody can tell whether an interrupted action reached its target: another round
        # could repeat it blindly. Using up the rounds sends the run to escalate after
        # verification (the router has no other signal for "stop here").
        update["attempt"] = max(attempt, ctx.settings.max_verify_attempts)
        update["notes"].append(
            ("no further remediation round", "an interrupted action needs a person to check it")
        )
    return update


async def _execute(
    state: IncidentState, action: RemediationAction, attempt: int, ctx: GraphContext
) -> ActionResult:
    log.info("action_started", action=action.describe(), type=action.type.value, round=attempt)
    started = time.perf_counter()
    result = await execute_once(state, action, attempt, ctx)
    log.info(
        "action_finished",
        action=action.describe(),
        type=action.type.value,
        round=attempt,
        result=result.status.value,
        detail=result.detail,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return result
