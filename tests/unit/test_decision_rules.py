"""Every decision rule, in isolation and in order, plus the global modes."""

from __future__ import annotations

import pytest

from firstline.domain.action import ActionType, Risk, Target
from firstline.domain.alert import Severity
from firstline.domain.decision import Outcome
from firstline.domain.hypothesis import NO_INCIDENT, Analysis
from firstline.policy.decision import RULES, DecisionInput, decide
from firstline.policy.schema import Mode, Policy
from tests.unit.builders import action, alert, analysis

AUTO = Policy(mode=Mode.AUTO)


def run(
    an: Analysis, severity: Severity = Severity.HIGH, policy: Policy = AUTO, **alert_kw: object
):  # type: ignore[no-untyped-def]
    return decide(DecisionInput(alert=alert(**alert_kw), severity=severity, analysis=an), policy)  # type: ignore[arg-type]


def test_rules_are_ordered_as_documented() -> None:
    assert [rule_id for rule_id, _ in RULES] == [
        "no_real_incident",
        "no_hypothesis",
        "low_confidence",
        "no_action_available",
        "high_risk_action",
        "manual_only_action",
        "critical_sensitive_wording",
        "stateful_target",
        "medium_risk_needs_approval",
        "low_risk_automatic",
    ]


def test_no_real_incident_dismisses_without_actions() -> None:
    d = run(analysis(0.8, actions=[], pattern=NO_INCIDENT))
    assert (d.outcome, d.rule, d.actions) == (Outcome.DISMISS, "no_real_incident", [])


def test_no_real_incident_below_threshold_escalates() -> None:
    d = run(analysis(0.5, actions=[], pattern=NO_INCIDENT))
    assert (d.outcome, d.rule) == (Outcome.ESCALATE, "low_confidence")


def test_no_hypothesis_escalates() -> None:
    d = run(Analysis(reasoner="test"))
    assert (d.outcome, d.rule) == (Outcome.ESCALATE, "no_hypothesis")


def test_an_unverified_model_idea_is_not_a_hypothesis_to_decide_on() -> None:
    idea = analysis(0.95).hypotheses[0].model_copy(update={"pattern": "llm", "verified": False})
    d = run(Analysis(reasoner="hybrid", hypotheses=[idea]))
    assert (d.outcome, d.rule, d.actions) == (Outcome.ESCALATE, "no_hypothesis", [])


def test_a_guess_from_the_alert_alone_is_never_acted_on_even_when_confident() -> None:
    """A ranked guess (no evidence read) carries low-risk actions and, here, a confidence
    above the threshold: still escalated, and the reason says it is a guess."""
    guess = (
        analysis(0.95)
        .hypotheses[0]
        .model_copy(update={"pattern": "job_failure", "verified": False, "basis": "alert"})
    )
    d = run(Analysis(reasoner="patterns", hypotheses=[guess]))
    assert (d.outcome, d.rule, d.actions) == (Outcome.ESCALATE, "no_hypothesis", [])
    assert "job_failure" in d.reason and "guess from the alert alone" in d.reason


@pytest.mark.parametrize(
    ("confidence", "rule"), [(0.59, "low_confidence"), (0.6, "low_risk_automatic")]
)
def test_confidence_threshold_is_inclusive(confidence: float, rule: str) -> None:
    assert run(analysis(confidence)).rule == rule


def test_threshold_comes_from_policy() -> None:
    strict = Policy(mode=Mode.AUTO, confidence_threshold=0.95)
    assert run(analysis(0.9), policy=strict).rule == "low_confidence"


def test_hypothesis_without_actions_escalates() -> None:
    d = run(analysis(0.9, actions=[]))
    assert (d.outcome, d.rule) == (Outcome.ESCALATE, "no_action_available")


def test_any_high_risk_action_escalates() -> None:
    d = run(analysis(0.9, actions=[action(), action(ActionType.SCALE, risk=Risk.HIGH)]))
    assert (d.outcome, d.rule) == (Outcome.ESCALATE, "high_risk_action")


def test_manual_only_escalates_even_if_marked_low_risk() -> None:
    d = run(analysis(0.9, actions=[action(ActionType.MANUAL_ONLY, risk=Risk.LOW)]))
    assert (d.outcome, d.rule) == (Outcome.ESCALATE, "manual_only_action")


@pytest.mark.parametrize(
    "wording", ["possible data loss", "table corruption detected", "security breach"]
)
def test_critical_with_sensitive_wording_escalates(wording: str) -> None:
    d = run(analysis(0.9), Severity.CRITICAL, annotations={"summary": wording})
    assert (d.outcome, d.rule) == (Outcome.ESCALATE, "critical_sensitive_wording")


def test_sensitive_wording_on_non_critical_does_not_block() -> None:
    d = run(analysis(0.9), Severity.HIGH, annotations={"summary": "possible data loss"})
    assert d.outcome is Outcome.AUTO_REMEDIATE


def test_stateful_target_with_custom_script_escalates() -> None:
    db = Target(kind="statefulset", name="orders-postgres", namespace="data")
    d = run(analysis(0.9, actions=[action(ActionType.CUSTOM_SCRIPT, risk=Risk.MEDIUM, target=db)]))
    assert (d.outcome, d.rule) == (Outcome.ESCALATE, "stateful_target")


def test_custom_script_on_stateless_target_only_needs_approval() -> None:
    d = run(analysis(0.9, actions=[action(ActionType.CUSTOM_SCRIPT, risk=Risk.MEDIUM)]))
    assert (d.outcome, d.rule) == (Outcome.REQUEST_APPROVAL, "medium_risk_needs_approval")


def test_medium_risk_requests_approval() -> None:
    d = run(analysis(0.9, actions=[action(ActionType.ROLLBACK)]))
    assert (d.outcome, d.rule) == (Outcome.REQUEST_APPROVAL, "medium_risk_needs_approval")
    assert [a.type for a in d.actions] == [ActionType.ROLLBACK]


def test_low_risk_is_automatic() -> None:
    d = run(analysis(0.9))
    assert (d.outcome, d.rule) == (Outcome.AUTO_REMEDIATE, "low_risk_automatic")


def test_new_install_default_is_approve_mode() -> None:
    d = run(analysis(0.9), policy=Policy())
    assert (d.outcome, d.rule, d.would_have) == (
        Outcome.REQUEST_APPROVAL,
        "mode_approve",
        Outcome.AUTO_REMEDIATE,
    )


@pytest.mark.parametrize("kind", [ActionType.RESTART, ActionType.ROLLBACK])
def test_observe_mode_never_acts(kind: ActionType) -> None:
    d = run(analysis(0.9, actions=[action(kind)]), policy=Policy(mode=Mode.OBSERVE))
    assert d.outcome is Outcome.RECOMMEND
    assert d.rule == "mode_observe"
    assert d.actions, "a recommendation still says what would be done"


def test_modes_never_soften_an_escalation() -> None:
    for mode in Mode:
        d = run(Analysis(reasoner="t"), policy=Policy(mode=mode))
        assert d.outcome is Outcome.ESCALATE


@pytest.mark.parametrize(
    ("name", "stateful"),
    [
        ("orders-db", True),
        ("Orders-Postgres-0", True),
        ("feedback-api", False),
        ("redisson", False),
    ],
)
def test_stateful_words_match_whole_words_only(name: str, stateful: bool) -> None:
    target = Target(kind="statefulset", name=name, namespace="data")
    d = run(
        analysis(0.9, actions=[action(ActionType.CUSTOM_SCRIPT, risk=Risk.MEDIUM, target=target)])
    )
    assert (d.rule == "stateful_target") is stateful


def test_policy_words_are_case_insensitive() -> None:
    policy = Policy(mode=Mode.AUTO, sensitive_words=("PII",))
    d = run(analysis(0.9), Severity.CRITICAL, policy=policy, annotations={"summary": "pii leak"})
    assert d.rule == "critical_sensitive_wording"
