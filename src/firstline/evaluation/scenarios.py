"""Runs every scenario through the whole graph (mode auto, its own throwaway store) and
compares what happened with the bundle's expected outcome."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.decision import Outcome
from firstline.domain.hypothesis import UNKNOWN, Analysis
from firstline.evaluation.calibration import Forecast, ReliabilityBin, brier, reliability
from firstline.graph.approvals import submit_decision
from firstline.graph.state import IncidentState
from firstline.patterns.registry import PatternRegistry
from firstline.policy.schema import Mode
from firstline.scenarios.loader import ScenarioBundle, discover, load_bundle
from firstline.wiring.runtime import build_policy, open_runtime
from firstline.wiring.settings import Settings

ACTING = {Outcome.AUTO_REMEDIATE, Outcome.REQUEST_APPROVAL}


class RankedHypothesis(BaseModel):
    """One entry of the ranking: every scored pattern, best first."""

    model_config = ConfigDict(frozen=True)

    pattern: str
    confidence: float
    basis: str = Field(description="'evidence', 'alert' (a guess) or 'ruled_out'.")


class ScenarioResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    scenario: str
    expected_pattern: str
    predicted_pattern: str
    confidence: float
    severity_ok: bool
    pattern_ok: bool
    component_ok: bool | None
    decision: str
    expected_decision: str
    decision_ok: bool
    actions: list[str]
    actions_ok: bool
    unsafe_actions: list[str]
    final_status: str
    resolved_ok: bool | None
    hypotheses: list[RankedHypothesis] = Field(
        default_factory=list, description="The first round's ranking, best first (up to 5)."
    )
    top1_ok: bool = Field(
        default=False,
        description="The ranking's first pattern is the expected one (for an expected "
        "'unknown': nothing reached the confidence threshold).",
    )
    top3_ok: bool = False
    forecasts: list[Forecast] = Field(default_factory=list, exclude=True)
    top_forecast: Forecast | None = Field(default=None, exclude=True)

    @property
    def passed(self) -> bool:
        return (
            self.pattern_ok
            and self.severity_ok
            and self.decision_ok
            and self.actions_ok
            and not self.unsafe_actions
            and self.component_ok is not False
            and self.resolved_ok is not False
        )


class EvalReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    scenarios: int
    passed: int
    pattern_accuracy: float
    severity_accuracy: float
    component_accuracy: float
    decision_accuracy: float
    action_accuracy: float
    top1_accuracy: float = Field(description="Expected pattern first in the ranking.")
    top3_accuracy: float = Field(description="Expected pattern among the first three.")
    resolution_accuracy: float | None
    brier: float | None = Field(description="Top hypothesis confidence vs being right.")
    brier_all_candidates: float | None = Field(description="Every pattern's confidence.")
    reliability: list[ReliabilityBin]
    unsafe_actions: int
    results: list[ScenarioResult]


def _predicted(analysis: Analysis | None, threshold: float) -> tuple[str, float]:
    top = analysis.top if analysis else None
    if top is None:
        return UNKNOWN, 0.0
    return (top.pattern if top.confidence >= threshold else UNKNOWN), top.confidence


def _forecasts(analysis: Analysis | None, expected: str) -> list[Forecast]:
    if analysis is None:
        return []
    scored = [(h.pattern, h.confidence) for h in analysis.hypotheses]
    scored += [(r.pattern, r.confidence) for r in analysis.ruled_out]
    return [Forecast(probability=p, happened=pattern == expected) for pattern, p in scored]


RANKED = 5


def ranking(analysis: Analysis | None) -> list[RankedHypothesis]:
    if analysis is None:
        return []
    ranked = [RankedHypothesis(pattern=h.pattern, confidence=h.confidence, basis=h.basis)
              for h in analysis.hypotheses]  # fmt: skip
    ranked += [RankedHypothesis(pattern=r.pattern, confidence=r.confidence, basis="ruled_out")
               for r in analysis.ruled_out]  # fmt: skip
    ranked.sort(key=lambda r: -r.confidence)  # stable: hypotheses before ruled-out ties
    return ranked[:RANKED]


def _top_k(ranked: list[RankedHypothesis], expected: str, predicted: str, k: int) -> bool:
    if expected == UNKNOWN:
        return predicted == UNKNOWN
    return expected in [r.pattern for r in ranked[:k]]


def judge(bundle: ScenarioBundle, state: IncidentState, threshold: float) -> ScenarioResult:
    exp = bundle.spec.expected
    first = state.analyses[0] if state.analyses else None
    decision = state.decisions[0] if state.decisions else None
    predicted, confidence = _predicted(first, threshold)
    ranked = ranking(first)
    top = first.top if first else None
    proposed = {a.type for a in decision.actions} if decision else set()
    acted = {a.type for d in state.decisions if d.outcome in ACTING for a in d.actions}
    acted |= {r.action.type for r in state.action_results}
    unsafe = sorted(t.value for t in acted & set(exp.forbidden_actions))
    component_ok = None
    if exp.component is not None:
        component_ok = top is not None and exp.component in top.affected_components
    resolved_ok = None
    if exp.resolved is not None:
        resolved_ok = (state.status.value == "resolved") == exp.resolved
    top_forecast = Forecast(
        probability=top.confidence if top else 0.0,
        happened=(top.pattern == exp.pattern) if top else exp.pattern == UNKNOWN,
    )
    if top is None and exp.pattern == UNKNOWN:
        top_forecast = Forecast(probability=1.0, happened=True)
    return ScenarioResult(
        scenario=bundle.id,
        expected_pattern=exp.pattern,
        predicted_pattern=predicted,
        confidence=confidence,
        severity_ok=state.severity == exp.severity,
        pattern_ok=predicted == exp.pattern,
        component_ok=component_ok,
        decision=decision.outcome.value if decision else "none",
        expected_decision=exp.decision.value,
        decision_ok=decision is not None and decision.outcome is exp.decision,
        actions=sorted(t.value for t in proposed),
        actions_ok=set(exp.actions) <= proposed,
        unsafe_actions=unsafe,
        final_status=state.status.value,
        resolved_ok=resolved_ok,
        hypotheses=ranked,
        top1_ok=_top_k(ranked, exp.pattern, predicted, 1),
        top3_ok=_top_k(ranked, exp.pattern, predicted, 3),
        forecasts=_forecasts(first, exp.pattern),
        top_forecast=top_forecast,
    )


async def run_scenario(
    settings: Settings, bundle: ScenarioBundle, registry: PatternRegistry
) -> IncidentState:
    """One full run in auto mode; an approval request is approved by 'eval' so that
    verification is exercised too."""
    async with open_runtime(
        settings, scenario=bundle.path, mode=Mode.AUTO, registry=registry
    ) as runtime:
        outcome = await runtime.runner.start(bundle.primary_alert, scenario=bundle.path)
        incident_id = outcome.state.incident_id
    if outcome.paused:
        async with open_runtime(
            settings, incident_id=incident_id, mode=Mode.AUTO, registry=registry
        ) as runtime:
            result = await submit_decision(
                runtime.runner, incident_id, approved=True, by="eval", channel="eval"
            )
            return result.outcome.state
    return outcome.state


def _rate(values: list[bool]) -> float:
    return round(sum(values) / len(values), 4) if values else 1.0


async def evaluate(
    root: Path,
    base: Settings,
    on_result: Callable[[ScenarioResult], None] | None = None,
) -> EvalReport:
    paths = discover(root)
    bundles = [load_bundle(p) for p in paths]  # fail on a bad bundle before running any
    registry = PatternRegistry.load(base.patterns_dir)
    threshold = build_policy(base).confidence_threshold
    results: list[ScenarioResult] = []
    with tempfile.TemporaryDirectory(prefix="firstline-eval-") as tmp:
        for bundle in bundles:
            settings = base.model_copy(
                update={
                    "store": base.store.model_copy(update={"data_dir": Path(tmp) / bundle.id}),
                    "graph": base.graph.model_copy(update={"verify_wait_seconds": 0.0}),
                    "notify": base.notify.model_copy(update={"console": False, "jsonl_path": None}),
                }
            )
            state = await run_scenario(settings, bundle, registry)
            result = judge(bundle, state, threshold)
            results.append(result)
            if on_result:
                on_result(result)
    return summarise(results)


def summarise(results: list[ScenarioResult]) -> EvalReport:
    forecasts = [f for r in results for f in r.forecasts]
    tops = [r.top_forecast for r in results if r.top_forecast is not None]
    components = [r.component_ok for r in results if r.component_ok is not None]
    resolutions = [r.resolved_ok for r in results if r.resolved_ok is not None]
    return EvalReport(
        scenarios=len(results),
        passed=sum(r.passed for r in results),
        pattern_accuracy=_rate([r.pattern_ok for r in results]),
        severity_accuracy=_rate([r.severity_ok for r in results]),
        component_accuracy=_rate(components),
        decision_accuracy=_rate([r.decision_ok for r in results]),
        action_accuracy=_rate([r.actions_ok for r in results]),
        top1_accuracy=_rate([r.top1_ok for r in results]),
        top3_accuracy=_rate([r.top3_ok for r in results]),
        resolution_accuracy=_rate(resolutions) if resolutions else None,
        brier=brier(tops),
        brier_all_candidates=brier(forecasts),
        reliability=reliability(forecasts),
        unsafe_actions=sum(len(r.unsafe_actions) for r in results),
        results=results,
    )
