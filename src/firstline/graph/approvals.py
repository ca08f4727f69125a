"""Approval decisions from any channel: validated, first one wins, expiry enforced."""

from __future__ import annotations

from dataclasses import dataclass

from firstline.domain.alert import Severity
from firstline.errors import Conflict, PermanentError
from firstline.errors import NotAllowed as Forbidden
from firstline.graph.runner import IncidentRunner, RunOutcome
from firstline.policy.approvers import approval_refusal
from firstline.store.audit import AuditKind


class ApprovalError(PermanentError):
    """The decision cannot be taken; the message says why. Nothing was changed."""

    status = 409


class NotAwaitingApproval(ApprovalError, Conflict):
    pass


class AlreadyDecided(ApprovalError, Conflict):
    pass


class NotAllowed(ApprovalError, Forbidden):
    """The policy does not let this principal approve these actions (audited)."""

    status = 403


@dataclass(frozen=True)
class ApprovalResult:
    outcome: RunOutcome
    expired: bool
    message: str


@dataclass(frozen=True)
class Claim:
    """A decision recorded (first one wins) but not yet acted on."""

    incident_id: str
    approved: bool
    by: str
    expired: bool

    @property
    def message(self) -> str:
        if self.expired:
            return f"the approval request had expired; incident {self.incident_id} was escalated"
        verdict = "approved" if self.approved else "rejected"
        return f"incident {self.incident_id} {verdict} by {self.by}"


async def claim_decision(
    runner: IncidentRunner,
    incident_id: str,
    *,
    approved: bool,
    by: str,
    comment: str = "",
    channel: str = "cli",
) -> Claim:
    """Validate and durably record the decision (audited), without resuming the run.
    Fast, so a channel with a deadline (Slack: 3 s) can answer once this returns; a crash
    after it leaves a decided request that `resume_decided` finishes."""
    store = runner.context.store
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
    now = runner.context.clock()
    expired = now > record.expires_at
    if approved and not expired:
        await _check_approver(runner, incident_id, by, channel, record.round)
    if expired:
        approved, by, channel = False, "firstline", "expiry"
        comment = f"approval request expired at {record.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    if not store.claim_decision(
        incident_id, record.round, approved=approved, by=by, channel=channel, comment=comment
    ):
        raise AlreadyDecided(f"incident {incident_id} was decided by someone else just now")
    runner.context.audit.append(
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
    return Claim(incident_id=incident_id, approved=approved, by=by, expired=expired)


async def _check_approver(
    runner: IncidentRunner, incident_id: str, principal: str, channel: str, round_: int
) -> None:
    """Refuse (and audit) an approval by a principal the policy does not name for every
    pending action at this severity."""
    state = await runner.current(incident_id)
    actions = state.decision.actions if state and state.decision else []
    severity = (state.severity if state else None) or Severity.MEDIUM
    refusal = approval_refusal(runner.context.policy.approvers, principal, actions, severity)
    if refusal is None:
        return
    runner.context.audit.append(
        incident_id,
        AuditKind.REFUSAL,
        {"at": "approval", "round": round_, "channel": channel, "rule": "approvers",
         "reason": refusal},
        actor=principal,
        at=runner.context.clock(),
    )  # fmt: skip
    raise NotAllowed(refusal)


async def apply_claim(runner: IncidentRunner, claim: Claim) -> ApprovalResult:
    """Resume the paused run with a claimed decision."""
    outcome = await runner.resume(claim.incident_id, {"approved": claim.approved, "by": claim.by})
    return ApprovalResult(outcome=outcome, expired=claim.expired, message=claim.message)


async def submit_decision(
    runner: IncidentRunner,
    incident_id: str,
    *,
    approved: bool,
    by: str,
    comment: str = "",
    channel: str = "cli",
) -> ApprovalResult:
    """Claim, then resume: what the CLI and the HTTP API do."""
    claim = await claim_decision(
        runner, incident_id, approved=approved, by=by, comment=comment, channel=channel
    )
    return await apply_claim(runner, claim)


async def resume_decided(runner: IncidentRunner, incident_id: str) -> ApprovalResult | None:
    """Finish a run whose approval was decided but never applied (a crash in between)."""
    record = runner.context.store.approval(incident_id)
    if record is None or not record.decided:
        return None
    if "request_approval" not in await runner.paused_at(incident_id):
        return None
    claim = Claim(
        incident_id=incident_id,
        approved=bool(record.approved),
        by=record.decided_by or "unknown",
        expired=record.channel == "expiry",
    )
    return await apply_claim(runner, claim)
