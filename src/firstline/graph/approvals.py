"""Approval decisions from any channel: validated, first one wins, expiry enforced."""

from __future__ import annotations

from dataclasses import dataclass

from firstline.graph.execution import audit_log
from firstline.graph.runner import IncidentRunner, RunOutcome
from firstline.store.audit import AuditKind


class ApprovalError(Exception):
    """The decision cannot be taken; the message says why. Nothing was changed."""


class NotAwaitingApproval(ApprovalError):
    pass


class AlreadyDecided(ApprovalError):
    pass


@dataclass(frozen=True)
class ApprovalResult:
    outcome: RunOutcome
    expired: bool
    message: str


async def submit_decision(
    runner: IncidentRunner,
    incident_id: str,
    *,
    approved: bool,
    by: str,
    comment: str = "",
    channel: str = "cli",
) -> ApprovalResult:
    store = runner.deps.store
    summary = store.summary(incident_id)  # raises UnknownIncident
    record = store.approval(incident_id)
    if record is not None and record.decided:
        verdict = "approved" if record.approved else "rejected"
        raise AlreadyDecided(
            f"incident {incident_id} was already {verdict} by {record.decided_by}"
            f" via {record.channel} at {record.decided_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    if record is None or "request_approval" not in await runner.paused_at(incident_id):
        raise NotAwaitingApproval(
            f"incident {incident_id} is not waiting for approval (status: {summary.status.value})"
        )
    now = runner.deps.clock()
    expired = now > record.expires_at
    if expired:
        approved, by, channel = False, "firstline", "expiry"
        comment = f"approval request expired at {record.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    if not store.claim_decision(
        incident_id, record.round, approved=approved, by=by, channel=channel, comment=comment
    ):
        raise AlreadyDecided(f"incident {incident_id} was decided by someone else just now")
    audit_log(runner.deps).append(
        incident_id,
        AuditKind.APPROVAL,
        {
            "round": record.round,
            "approved": approved,
            "channel": channel,
            "comment": comment,
            "expired": expired,
            "expires_at": record.expires_at.isoformat(),
        },
        actor=by,
        at=now,
    )
    outcome = await runner.resume(incident_id, {"approved": approved, "by": by})
    if expired:
        message = f"the approval request had expired; incident {incident_id} was escalated"
    else:
        message = f"incident {incident_id} {'approved' if approved else 'rejected'} by {by}"
    return ApprovalResult(outcome=outcome, expired=expired, message=message)
