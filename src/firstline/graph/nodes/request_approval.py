"""request_approval: pause the run until a person answers (or the request expires).

The node runs again from its first line when resumed, so everything before `interrupt()`
is idempotent: the request row is created once, the notification is sent only by the call
that created it, and timeline entries have stable keys.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from langgraph.types import interrupt

from firstline.domain.incident import ApprovalAnswer, ApprovalRequest, IncidentStatus
from firstline.graph.context import GraphContext
from firstline.graph.notifying import notify_all
from firstline.graph.recording import Note, Update, record_now
from firstline.graph.report import approval_notification
from firstline.graph.state import IncidentState

log = structlog.get_logger(__name__)


async def request_approval(state: IncidentState, ctx: GraphContext) -> Update:
    assert state.decision is not None, "request_approval follows decide"
    round_ = state.approval_round + 1
    now = ctx.clock()
    timeout = timedelta(seconds=ctx.policy.approval_timeout_seconds)
    record, created = ctx.store.open_approval(state.incident_id, round_, now, now + timeout)
    dry_run = [await ctx.executor.dry_run(a) for a in state.decision.actions]
    request = ApprovalRequest(
        incident_id=state.incident_id,
        requested_at=record.requested_at,
        expires_at=record.expires_at,
        summary=state.decision.reason,
        actions=[a.describe() for a in state.decision.actions],
        dry_run=dry_run,
    )
    requested: Note = (
        f"approval requested (round {round_})",
        f"expires {record.expires_at:%Y-%m-%d %H:%M:%S} UTC; would: {'; '.join(dry_run)}",
    )
    if created:
        log.info(
            "approval_requested",
            round=round_,
            actions=request.actions,
            expires_at=record.expires_at.isoformat(),
        )
        ctx.store.update(state.incident_id, status=IncidentStatus.AWAITING_APPROVAL)
        record_now(state, "request_approval", [requested], ctx)
        notes = await notify_all(ctx, approval_notification(state, request))
        record_now(state, "request_approval", [requested, *notes], ctx)

    resumed = interrupt(request.model_dump(mode="json"))

    answer = _final_answer(state, ctx, round_, resumed)
    verdict = "expired" if answer.expired else ("approved" if answer.approved else "rejected")
    log.info(
        "approval_answered", round=round_, verdict=verdict, by=answer.by, channel=answer.channel
    )
    decided: Note = (
        f"{verdict} by {answer.by} via {answer.channel}",
        answer.comment,
    )
    return {
        "approval": answer,
        "approval_round": round_,
        "status": IncidentStatus.REMEDIATING if answer.approved else IncidentStatus.ESCALATED,
        "notes": [requested, decided],
    }


def _final_answer(
    state: IncidentState, ctx: GraphContext, round_: int, resumed: object
) -> ApprovalAnswer:
    """The stored decision is the truth (first one wins); the resume value only wakes us."""
    record = ctx.store.approval(state.incident_id, round_)
    if record is None or not record.decided or record.decided_at is None:
        return ApprovalAnswer(
            approved=False,
            by="firstline",
            at=ctx.clock(),
            comment=f"resumed without a recorded decision ({resumed!r}); not acting",
            channel="internal",
        )
    expired = record.decided_at > record.expires_at or record.channel == "expiry"
    return ApprovalAnswer(
        approved=bool(record.approved) and not expired,
        by=record.decided_by or "unknown",
        at=record.decided_at,
        comment=record.comment or "",
        channel=record.channel or "unknown",
        expired=expired,
    )
