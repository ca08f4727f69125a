"""The decision engine: deterministic rules over an analysis, then the global mode.

Rules are checked in order and the first that fires decides. Each has a stable id that is
recorded with the decision, so a person can see exactly why firstline acted or did not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from firstline.actions.catalog import CATALOG
from firstline.domain.action import ActionType, RemediationAction, Risk
from firstline.domain.alert import Alert, Severity
from firstline.domain.decision import Decision, Outcome
from firstline.domain.hypothesis import NO_INCIDENT, Analysis
from firstline.policy.runbooks import bind
from firstline.policy.schema import Mode, Policy


@dataclass(frozen=True)
class DecisionInput:
    alert: Alert
    severity: Severity
    analysis: Analysis


RuleResult = tuple[Outcome, str] | None
Rule = Callable[[DecisionInput, Policy], RuleResult]


def _actions(inp: DecisionInput) -> list[RemediationAction]:
    top = inp.analysis.top_verified
    return list(top.suggested_actions) if top else []


def rule_no_real_incident(inp: DecisionInput, policy: Policy) -> RuleResult:
    top = inp.analysis.top
    if top and top.pattern == NO_INCIDENT and top.confidence >= policy.confidence_threshold:
        return Outcome.DISMISS, f"no real incident: {top.cause}"
    return None


def rule_no_hypothesis(inp: DecisionInput, policy: Policy) -> RuleResult:
    # an unverified model-only idea is shown to people but is not a hypothesis to act on
    if inp.analysis.top_verified is None:
        guess = inp.analysis.top
        if guess is not None and guess.basis == "alert":
            return (
                Outcome.ESCALATE,
                f"the leading hypothesis ({guess.pattern}, {guess.confidence:.0%}) is a guess "
                "from the alert alone, with no evidence to act on; a person must look",
            )
        return Outcome.ESCALATE, "no pattern explains the evidence; a person must look"
    return None


def rule_low_confidence(inp: DecisionInput, policy: Policy) -> RuleResult:
    top = inp.analysis.top
    if top and top.confidence < policy.confidence_threshold:
        return (
            Outcome.ESCALATE,
            f"top hypothesis confidence {top.confidence:.2f} is below "
            f"{policy.confidence_threshold:.2f}",
        )
    return None


def rule_no_action(inp: DecisionInput, policy: Policy) -> RuleResult:
    if not _actions(inp):
        return Outcome.ESCALATE, "the hypothesis has no remediation firstline can carry out"
    return None


def rule_high_risk(inp: DecisionInput, policy: Policy) -> RuleResult:
    risky = [a.describe() for a in _actions(inp) if a.risk is Risk.HIGH]
    if risky:
        return Outcome.ESCALATE, f"high-risk action proposed: {', '.join(risky)}"
    return None


def rule_manual_only(inp: DecisionInput, policy: Policy) -> RuleResult:
    manual = [a.describe() for a in _actions(inp) if not CATALOG[a.type].automatable]
    if manual:
        return Outcome.ESCALATE, f"only a person may carry out: {', '.join(manual)}"
    return None


def rule_critical_sensitive(inp: DecisionInput, policy: Policy) -> RuleResult:
    if inp.severity is not Severity.CRITICAL:
        return None
    text = inp.alert.text()
    hits = [w for w in policy.sensitive_words if _mentions(text, w)]
    if hits:
        return Outcome.ESCALATE, f"critical alert mentions {hits[0]!r}: no automated action"
    return None


def _mentions(text: str, word: str) -> bool:
    """Whole-word, case-insensitive: 'db' matches 'orders-db' but not 'feedback'."""
    return (
        re.search(rf"(?<![a-z0-9]){re.escape(word.lower())}(?![a-z0-9])", text.lower()) is not None
    )


def _is_stateful(action: RemediationAction, policy: Policy) -> bool:
    haystack = f"{action.target.kind} {action.target.name}".replace("_", "-")
    return any(_mentions(haystack, w) for w in policy.stateful_targets)


def rule_stateful_target(inp: DecisionInput, policy: Policy) -> RuleResult:
    guarded = {ActionType.FAILOVER_DATABASE, ActionType.CUSTOM_SCRIPT}
    hits = [a.describe() for a in _actions(inp) if a.type in guarded and _is_stateful(a, policy)]
    if hits:
        return Outcome.ESCALATE, f"stateful target with {', '.join(hits)}"
    return None


def rule_medium_risk(inp: DecisionInput, policy: Policy) -> RuleResult:
    medium = [a.describe() for a in _actions(inp) if a.risk is Risk.MEDIUM]
    if medium:
        return Outcome.REQUEST_APPROVAL, f"medium-risk action needs approval: {', '.join(medium)}"
    return None


def rule_low_risk(inp: DecisionInput, policy: Policy) -> RuleResult:
    return Outcome.AUTO_REMEDIATE, "every proposed action is low risk"


RULES: tuple[tuple[str, Rule], ...] = (
    ("no_real_incident", rule_no_real_incident),
    ("no_hypothesis", rule_no_hypothesis),
    ("low_confidence", rule_low_confidence),
    ("no_action_available", rule_no_action),
    ("high_risk_action", rule_high_risk),
    ("manual_only_action", rule_manual_only),
    ("critical_sensitive_wording", rule_critical_sensitive),
    ("stateful_target", rule_stateful_target),
    ("medium_risk_needs_approval", rule_medium_risk),
    ("low_risk_automatic", rule_low_risk),
)


def _apply_mode(decision: Decision, policy: Policy) -> Decision:
    acting = {Outcome.AUTO_REMEDIATE, Outcome.REQUEST_APPROVAL}
    if decision.outcome not in acting:
        return decision
    if policy.mode is Mode.OBSERVE:
        return Decision(
            outcome=Outcome.RECOMMEND,
            rule="mode_observe",
            reason=f"observe mode: recommending only ({decision.rule}: {decision.reason})",
            actions=decision.actions,
            would_have=decision.outcome,
        )
    if policy.mode is Mode.APPROVE and decision.outcome is Outcome.AUTO_REMEDIATE:
        return Decision(
            outcome=Outcome.REQUEST_APPROVAL,
            rule="mode_approve",
            reason=f"approve mode: every action needs approval ({decision.reason})",
            actions=decision.actions,
            would_have=decision.outcome,
        )
    return decision


def with_runbooks(inp: DecisionInput, policy: Policy) -> tuple[DecisionInput, str]:
    """The input with the policy's runbooks applied to the hypothesis decided on, and the
    note naming the runbook. Only at or above the confidence threshold: a runbook makes a
    diagnosis actionable, never a weak one acted on."""
    top = inp.analysis.top_verified
    if not policy.runbooks or top is None or top.confidence < policy.confidence_threshold:
        return inp, ""
    bound = bind(policy.runbooks, inp.alert, top)
    if bound.actions == top.suggested_actions:
        return inp, bound.note
    hypotheses = [
        h.model_copy(update={"suggested_actions": bound.actions}) if h is top else h
        for h in inp.analysis.hypotheses
    ]
    analysis = inp.analysis.model_copy(update={"hypotheses": hypotheses})
    return DecisionInput(alert=inp.alert, severity=inp.severity, analysis=analysis), bound.note


def decide(inp: DecisionInput, policy: Policy) -> Decision:
    inp, note = with_runbooks(inp, policy)
    for rule_id, rule in RULES:
        result = rule(inp, policy)
        if result is None:
            continue
        outcome, reason = result
        if note and outcome is not Outcome.DISMISS:
            reason = f"{reason} ({note})"
        actions = _actions(inp) if outcome is not Outcome.DISMISS else []
        return _apply_mode(
            Decision(outcome=outcome, rule=rule_id, reason=reason, actions=actions), policy
        )
    raise AssertionError("rule_low_risk always fires")  # pragma: no cover
