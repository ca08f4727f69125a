"""Pure routers: state (and a setting) in, next node name out. No I/O, no clock."""

from __future__ import annotations

from typing import Literal

from firstline.domain.decision import Outcome
from firstline.graph.state import IncidentState

AfterDecide = Literal["remediate", "request_approval", "escalate", "conclude"]
AfterApproval = Literal["remediate", "escalate"]
AfterVerify = Literal["resolve", "analyze", "escalate"]


def route_after_decide(state: IncidentState) -> AfterDecide:
    outcome = state.decision.outcome if state.decision else Outcome.ESCALATE
    if outcome is Outcome.AUTO_REMEDIATE:
        return "remediate"
    if outcome is Outcome.REQUEST_APPROVAL:
        return "request_approval"
    if outcome in (Outcome.RECOMMEND, Outcome.DISMISS):
        return "conclude"
    return "escalate"


def route_after_approval(state: IncidentState) -> AfterApproval:
    answer = state.approval
    return "remediate" if answer and answer.approved and not answer.expired else "escalate"


def route_after_verify(state: IncidentState, max_attempts: int) -> AfterVerify:
    """The bound is the run's setting (GraphSettings.max_verify_attempts), read from its
    context when the router runs (graph/builder.py), not a constant here."""
    last = state.verifications[-1] if state.verifications else None
    if last is not None and last.resolved:
        return "resolve"
    if state.attempt < max_attempts:
        return "analyze"
    return "escalate"
