"""The policy's `approvers`: who may approve which actions, namespaces and severities."""

from __future__ import annotations

from firstline.domain.action import ActionType, RemediationAction, Risk, Target
from firstline.domain.alert import Severity
from firstline.policy.approvers import approval_refusal
from firstline.policy.schema import Policy


def _action(kind: ActionType, namespace: str) -> RemediationAction:
    return RemediationAction(
        type=kind, target=Target(kind="deployment", name="checkout", namespace=namespace),
        risk=Risk.LOW, rationale="test",
    )  # fmt: skip


POLICY = Policy.model_validate(
    {
        "approvers": [
            {
                "principals": ["alice", "slack:U*"],
                "types": ["restart"],
                "namespaces": ["shop"],
                "severities": ["medium", "low"],
            },
            {"principals": ["lead"]},
        ]
    }
)
RESTART = _action(ActionType.RESTART, "shop")
ROLLBACK = _action(ActionType.ROLLBACK, "shop")


def test_a_named_principal_may_approve_what_its_rule_covers() -> None:
    assert approval_refusal(POLICY.approvers, "alice", [RESTART], Severity.MEDIUM) is None
    assert approval_refusal(POLICY.approvers, "slack:U024BE7LH", [RESTART], Severity.LOW) is None
    assert approval_refusal(POLICY.approvers, "lead", [ROLLBACK], Severity.CRITICAL) is None


def test_anything_not_covered_is_refused_with_a_reason() -> None:
    assert "mallory may not approve" in str(
        approval_refusal(POLICY.approvers, "mallory", [RESTART], Severity.LOW)
    )
    assert approval_refusal(POLICY.approvers, "alice", [ROLLBACK], Severity.LOW)
    assert approval_refusal(POLICY.approvers, "alice", [RESTART], Severity.HIGH)
    other_ns = _action(ActionType.RESTART, "payments")
    assert approval_refusal(POLICY.approvers, "alice", [RESTART, other_ns], Severity.LOW)


def test_without_the_section_any_principal_may_approve() -> None:
    assert approval_refusal(Policy().approvers, "anyone", [ROLLBACK], Severity.CRITICAL) is None
