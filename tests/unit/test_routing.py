"""Routers are pure: the same state always gives the same next node."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firstline.domain.decision import Decision, Outcome
from firstline.domain.incident import ApprovalAnswer
from firstline.graph.routing import route_after_approval, route_after_decide, route_after_verify
from firstline.graph.state import IncidentState, Verification
from tests.unit.builders import alert


def state(**kw: object) -> IncidentState:
    return IncidentState(incident_id="inc-1", alert=alert(), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcome", "node"),
    [
        (Outcome.AUTO_REMEDIATE, "remediate"),
        (Outcome.REQUEST_APPROVAL, "request_approval"),
        (Outcome.ESCALATE, "escalate"),
        (Outcome.RECOMMEND, "conclude"),
        (Outcome.DISMISS, "conclude"),
    ],
)
def test_after_decide(outcome: Outcome, node: str) -> None:
    decision = Decision(outcome=outcome, rule="r", reason="x")
    assert route_after_decide(state(decision=decision)) == node


def test_after_decide_without_decision_escalates() -> None:
    assert route_after_decide(state()) == "escalate"


def _answer(approved: bool, expired: bool = False) -> ApprovalAnswer:
    return ApprovalAnswer(approved=approved, by="a", at=datetime.now(UTC), expired=expired)


@pytest.mark.parametrize(
    ("answer", "node"),
    [
        (_answer(True), "remediate"),
        (_answer(False), "escalate"),
        (_answer(True, expired=True), "escalate"),
        (None, "escalate"),
    ],
)
def test_after_approval(answer: ApprovalAnswer | None, node: str) -> None:
    assert route_after_approval(state(approval=answer)) == node


def _verified(resolved: bool, attempt: int) -> IncidentState:
    return state(
        attempt=attempt,
        verifications=[Verification(attempt=attempt, resolved=resolved, reason="r")],
    )


def test_after_verify_resolved() -> None:
    assert route_after_verify(_verified(True, 1), 2) == "resolve"


def test_after_verify_retries_within_bound_then_escalates() -> None:
    assert route_after_verify(_verified(False, 1), 2) == "analyze"
    assert route_after_verify(_verified(False, 2), 2) == "escalate"
    assert route_after_verify(_verified(False, 1), 1) == "escalate"
