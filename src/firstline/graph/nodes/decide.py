"""decide: the deterministic decision engine, then the policy's guard rails on its actions.

A decision that would act is checked against the guard rails (policy/actions.py) here, so a
refused action escalates with the rule that refused it instead of waiting for approval.
Every decision and refusal goes to the audit log, in one transaction, with the round it
belongs to; a run resumed after a crash finds its round's decision there and does not decide
again.
"""

from __future__ import annotations

from typing import Any

import structlog

from firstline.domain.action import RemediationAction
from firstline.domain.alert import Severity
from firstline.domain.decision import Decision, Outcome
from firstline.domain.hypothesis import Analysis
from firstline.domain.incident import IncidentStatus
from firstline.graph.context import GraphContext
from firstline.graph.execution import guard_context
from firstline.graph.recording import Update
from firstline.graph.state import IncidentState
from firstline.policy.actions import guard_decision
from firstline.policy.decision import DecisionInput, decide
from firstline.store.audit import AuditKind
from firstline.store.base import AuditTrail

log = structlog.get_logger(__name__)


async def decide_outcome(state: IncidentState, ctx: GraphContext) -> Update:
    round_ = len(state.decisions) + 1
    audit = ctx.audit
    decision = _recorded_decision(audit, state.incident_id, round_)
    if decision is None:  # not decided yet (a recorded decision is final, even after a crash)
        decision = _decide_and_record(state, ctx, audit, round_)
    described = [a.describe() for a in decision.actions]
    actions = ", ".join(described) or "no action"
    log.info(
        "decision",
        outcome=decision.outcome.value,
        rule=decision.rule,
        reason=decision.reason,
        actions=described,
        round=round_,
    )
    update: Update = {}
    if decision.outcome is Outcome.REQUEST_APPROVAL:
        # set here, not in request_approval: that node pauses before it can return
        update["status"] = IncidentStatus.AWAITING_APPROVAL
    return update | {
        "decision": decision,
        "decisions": [decision],
        "notes": [
            (
                f"decision: {decision.outcome.value} (rule {decision.rule})",
                f"{decision.reason}; actions: {actions}",
            )
        ],
    }


def _decide_and_record(
    state: IncidentState, ctx: GraphContext, audit: AuditTrail, round_: int
) -> Decision:
    decision = decide(
        DecisionInput(
            alert=state.alert,
            severity=state.severity or Severity.MEDIUM,
            analysis=state.analysis or Analysis(reasoner="none"),
        ),
        ctx.policy,
    )
    decision, refused = guard_decision(decision, guard_context(state, ctx), ctx.policy)
    entries: list[tuple[AuditKind, dict[str, Any]]] = [
        (
            AuditKind.REFUSAL,
            {
                "at": "decision",
                "round": round_,
                "action": action.model_dump(mode="json"),
                "rule": refusal.rule,
                "reason": refusal.reason,
            },
        )
        for action, refusal in refused
    ]
    entries.append(
        (
            AuditKind.DECISION,
            {
                "round": round_,
                "outcome": decision.outcome.value,
                "rule": decision.rule,
                "reason": decision.reason,
                "would_have": decision.would_have.value if decision.would_have else None,
                "actions": [a.model_dump(mode="json") for a in decision.actions],
                "severity": (state.severity or Severity.MEDIUM).value,
            },
        )
    )
    # refusals and decision in one transaction: a crash leaves all of them or none
    audit.append_all(state.incident_id, entries, at=ctx.clock())
    return decision


def _recorded_decision(audit: AuditTrail, incident_id: str, round_: int) -> Decision | None:
    """This round's decision if the audit already holds it (a run resumed after a crash
    between recording the decision and checkpointing the step)."""
    for record in audit.records(incident_id, AuditKind.DECISION):
        details = record.details
        if details.get("round") == round_:
            return Decision(
                outcome=Outcome(details["outcome"]),
                rule=details["rule"],
                reason=details["reason"],
                actions=[RemediationAction.model_validate(a) for a in details["actions"]],
                would_have=Outcome(details["would_have"]) if details["would_have"] else None,
            )
    return None
