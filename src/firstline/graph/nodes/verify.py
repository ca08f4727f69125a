"""verify: after a configurable wait, check that the problem is gone.

The alert's own state decides when the source can tell; otherwise the metrics that backed
the hypothesis are queried again and must no longer be anomalous. A failed verification
undoes the round's actions when the policy says `undo_on_failed_verification: true`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import structlog

from firstline.domain.action import ActionStatus
from firstline.graph.context import GraphContext
from firstline.graph.execution import needs_person, undo_round
from firstline.graph.gathering import annotate, scope_for
from firstline.graph.recording import Update
from firstline.graph.state import IncidentState, Verification
from firstline.reasoning.base import FailedAttempt

log = structlog.get_logger(__name__)


async def _alert_firing(state: IncidentState, ctx: GraphContext) -> bool | None:
    try:
        return await ctx.source.alert_firing(state.alert)
    except Exception:  # an unreachable source cannot confirm anything
        return None


async def _anomalous_metrics(state: IncidentState, ctx: GraphContext) -> list[str] | None:
    top = state.analysis.top if state.analysis else None
    names = {r.removeprefix("metric:") for r in (top.evidence_refs if top else [])}
    queries = [q for q in ctx.registry.metric_queries(state.candidates) if q.name in names]
    if not queries:
        return None
    window = timedelta(minutes=ctx.settings.evidence_window_minutes)
    scope = scope_for(state.alert, ctx.evidence_clock(), window)
    still: list[str] = []
    for query in queries:
        try:
            metric = annotate(await ctx.source.metric(query, scope), ctx.detector)
        except Exception:
            return None
        if metric.anomalous:
            still.append(f"{query.name} {metric.findings[0].sentence}")
    return still


async def _check(
    state: IncidentState, ctx: GraphContext, applied: bool
) -> tuple[bool, str, list[str], bool]:
    """One look at the problem: (resolved, reason, checks, worth looking again)."""
    firing = await _alert_firing(state, ctx)
    still = await _anomalous_metrics(state, ctx)
    checks = [f"alert still firing: {'unknown' if firing is None else firing}"]
    if still is not None:
        checks.append("metrics still anomalous: " + (", ".join(still) or "none"))
    if not applied:
        return False, "no action was carried out successfully", checks, False
    if firing is not None:
        if firing:
            return False, "the alert is still firing", checks, True
        return True, "the alert stopped firing", checks, False
    if still is not None:
        if still:
            return False, "the metrics are still anomalous", checks, True
        return True, "the metrics are back to normal", checks, False
    return False, "nothing could confirm the fix; not claiming success", checks, False


async def verify_fix(state: IncidentState, ctx: GraphContext) -> Update:
    if ctx.settings.verify_wait_seconds > 0:
        await asyncio.sleep(ctx.settings.verify_wait_seconds)
    planned = len(state.decision.actions) if state.decision else 0
    this_round = state.action_results[-planned:] if planned else []
    applied = [
        r
        for r in this_round
        if r.status in (ActionStatus.SUCCEEDED, ActionStatus.SKIPPED_DUPLICATE)
    ]
    # a fix takes effect over time (pods roll, a rule's rate window drains): look again
    # until the deadline rather than judging the first instant after the action
    deadline = time.monotonic() + ctx.settings.verify_timeout_seconds
    looks = 1
    resolved, reason, checks, again = await _check(state, ctx, bool(applied))
    while again and time.monotonic() + ctx.settings.verify_poll_seconds <= deadline:
        await asyncio.sleep(ctx.settings.verify_poll_seconds)
        looks += 1
        resolved, reason, checks, again = await _check(state, ctx, bool(applied))
    if not applied and (person := next((r for r in this_round if needs_person(r)), None)):
        reason += f" ({person.action.describe()}: {person.detail})"
    if looks > 1:
        reason += f" (after {looks} checks)"
    result = Verification(attempt=state.attempt, resolved=resolved, reason=reason, checks=checks)
    log.info("verification", round=state.attempt, resolved=resolved, reason=reason, checks=checks)
    update: Update = {
        "verifications": [result],
        "notes": [
            (f"verification {'passed' if resolved else 'failed'}", f"{reason}; {'; '.join(checks)}")
        ],
    }
    if not resolved and ctx.policy.undo_on_failed_verification:
        update["notes"].extend(await undo_round(state, this_round, ctx))
    top = state.analysis.top if state.analysis else None
    if not resolved and top is not None:
        update["failed_attempts"] = [
            *state.failed_attempts,
            FailedAttempt(pattern=top.pattern, actions=[r.action.describe() for r in this_round]),
        ]
    return update
