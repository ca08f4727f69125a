"""Every one of the 934 public alerting rules, fired with no evidence at all, goes through the
reasoner and the decision engine: nothing raises, nothing acts, heartbeats are dismissed, and
the alerts the catalog understands still get a ranked (unverified) guess to show a person."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from firstline.domain.decision import Decision, Outcome
from firstline.domain.evidence import EvidenceSet
from firstline.domain.hypothesis import NO_INCIDENT, Analysis
from firstline.knowledge.catalog import AlertKind, AlertPrior, Strength, prior_for
from firstline.patterns.base import PRIOR_CEILING
from firstline.patterns.registry import PatternRegistry
from firstline.policy.decision import DecisionInput, decide
from firstline.policy.schema import Mode, Policy
from firstline.policy.severity import triage_severity
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.rules import PatternReasoner
from tests.unit.knowledge.corpus import Rule, alert_of, corpus_path, load_rules

# Measured 2026-12-02 with an empty EvidenceSet: 934 rules, 139 whose catalog entry
# suggests some pattern strongly or likely, 139/139 (100%) of them with a ranked guess for
# such a pattern; 2 heartbeat/inhibitor rules (Watchdog, InfoInhibitor), both dismissed;
# the other 932 escalate with `no_hypothesis`; ~10 s for the whole corpus on an idle
# 2-core machine. The floors leave a margin for catalog edits.
CORPUS_SIZE = 934
SUGGESTED_FLOOR = 130
GUESSED_FLOOR = 0.95
RUNTIME_CEILING_S = 120.0  # a guard against a pathological slowdown, not a benchmark
ACTING = {Outcome.AUTO_REMEDIATE, Outcome.REQUEST_APPROVAL}
FIRES_BY_DESIGN = (AlertKind.HEARTBEAT, AlertKind.INHIBITOR)

needs_corpus = pytest.mark.skipif(
    not corpus_path().exists(),
    reason=f"alert-rule corpus not found at {corpus_path()} (set ALERT_RULES_CORPUS)",
)


@dataclass(frozen=True)
class RuleRun:
    rule: Rule
    prior: AlertPrior
    analysis: Analysis | None
    decision: Decision | None
    error: str | None


@dataclass(frozen=True)
class Run:
    outcomes: list[RuleRun]
    seconds: float


def _suggested(prior: AlertPrior) -> set[str]:
    """Patterns (other than noise) the catalog suggests strongly or likely."""
    return {
        pattern
        for pattern, strength in prior.suggests.items()
        if strength in (Strength.STRONG, Strength.LIKELY) and pattern != NO_INCIDENT
    }


async def _run_all(rules: list[Rule]) -> list[RuleRun]:
    registry = PatternRegistry.load()
    reasoner = PatternReasoner(registry)
    policy = Policy(mode=Mode.AUTO)  # the mode that would let a rule act
    candidates = registry.ids()
    found = []
    for rule in rules:
        alert = alert_of(rule)
        prior = prior_for(alert)
        try:
            severity, _ = triage_severity(alert, None)
            analysis = await reasoner.analyze(
                ReasoningInput(
                    alert=alert, severity=severity, candidates=candidates, evidence=EvidenceSet()
                )
            )
            decision = decide(DecisionInput(alert, severity, analysis), policy)
        except Exception as exc:  # recorded, so one failure does not hide the others
            found.append(RuleRun(rule, prior, None, None, f"{type(exc).__name__}: {exc}"))
            continue
        found.append(RuleRun(rule, prior, analysis, decision, None))
    return found


@pytest.fixture(scope="module")
def run() -> Run:
    rules = load_rules()
    started = time.perf_counter()
    outcomes = asyncio.run(_run_all(rules))
    return Run(outcomes=outcomes, seconds=time.perf_counter() - started)


def _done(run: Run) -> list[tuple[RuleRun, Analysis, Decision]]:
    return [(o, o.analysis, o.decision) for o in run.outcomes if o.analysis and o.decision]


@needs_corpus
def test_every_rule_is_analysed_and_decided_without_raising(run: Run) -> None:
    assert len(run.outcomes) == CORPUS_SIZE
    errors = [(o.rule.key, o.error) for o in run.outcomes if o.error]
    assert errors == [], errors[:10]
    print(f"\n{len(run.outcomes)} rules analysed and decided in {run.seconds:.1f} s")
    assert run.seconds < RUNTIME_CEILING_S


@needs_corpus
def test_no_rule_acts_without_evidence(run: Run) -> None:
    acting = [(o.rule.key, d.outcome, d.rule) for o, _, d in _done(run) if d.outcome in ACTING]
    assert acting == [], acting[:10]
    # and nothing is even recommended or shown as verified: no evidence, no verified cause
    verified = [(o.rule.key, a.top_verified.pattern) for o, a, _ in _done(run)
                if a.top_verified is not None and o.prior.kind not in FIRES_BY_DESIGN]  # fmt: skip
    assert verified == [], verified[:10]


@needs_corpus
def test_incident_alerts_escalate_as_unexplained(run: Run) -> None:
    incidents = [(o, d) for o, _, d in _done(run) if o.prior.kind not in FIRES_BY_DESIGN]
    wrong = [(o.rule.key, d.outcome, d.rule) for o, d in incidents
             if (d.outcome, d.rule) != (Outcome.ESCALATE, "no_hypothesis")]  # fmt: skip
    # without evidence an alert about a real problem is neither acted on nor dismissed
    assert wrong == [], wrong[:10]


@needs_corpus
def test_guesses_are_unverified_and_bounded_by_the_prior_ceiling(run: Run) -> None:
    for o, analysis, _ in _done(run):
        if o.prior.kind in FIRES_BY_DESIGN:
            continue
        for h in analysis.hypotheses:
            assert h.basis == "alert", (o.rule.key, h.pattern, h.basis)
            assert h.verified is False, (o.rule.key, h.pattern)
            assert h.confidence <= PRIOR_CEILING, (o.rule.key, h.pattern, h.confidence)


@needs_corpus
def test_heartbeats_and_inhibitors_are_dismissed(run: Run) -> None:
    by_design = [(o, d) for o, _, d in _done(run) if o.prior.kind in FIRES_BY_DESIGN]
    names = {o.rule.alertname for o, _ in by_design}
    assert {"Watchdog", "InfoInhibitor"} <= names
    assert any(o.prior.kind is AlertKind.HEARTBEAT for o, _ in by_design)
    for o, d in by_design:
        assert d.outcome is Outcome.DISMISS, (o.rule.key, d)
        assert d.rule == "no_real_incident", (o.rule.key, d.rule)
        assert d.actions == []
    print(f"\nfires by design: {len(by_design)} ({', '.join(sorted(names))}), all dismissed")


@needs_corpus
def test_understood_alerts_get_a_ranked_guess(run: Run) -> None:
    suggested = [
        (o, a)
        for o, a, _ in _done(run)
        if o.prior.kind not in FIRES_BY_DESIGN and _suggested(o.prior)
    ]
    guessed = [
        (o, a)
        for o, a in suggested
        if any(h.basis == "alert" and h.pattern in _suggested(o.prior) for h in a.hypotheses)
    ]
    missing = sorted(o.rule.key for o, a in suggested if (o, a) not in guessed)
    share = len(guessed) / len(suggested) if suggested else 0.0
    print(
        f"\n{len(suggested)}/{len(run.outcomes)} rules suggest a pattern strongly or likely; "
        f"{len(guessed)} ({share:.1%}) get a ranked guess for it"
    )
    assert len(suggested) >= SUGGESTED_FLOOR
    assert share >= GUESSED_FLOOR, missing[:20]


@needs_corpus
def test_only_strong_or_likely_suggestions_are_ranked_without_evidence(run: Run) -> None:
    for o, analysis, _ in _done(run):
        if o.prior.kind in FIRES_BY_DESIGN:
            continue
        for h in analysis.hypotheses:
            assert h.pattern in _suggested(o.prior), (o.rule.key, h.pattern, o.prior.suggests)
