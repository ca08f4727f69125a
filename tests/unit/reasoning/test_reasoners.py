"""The LLM and hybrid reasoners with a scripted model: what the model may and may not
change, bounded repair, and fallback to the pattern engine on every kind of failure."""

from __future__ import annotations

import pytest

from firstline.domain.action import ActionType, Risk
from firstline.domain.hypothesis import RootCauseHypothesis
from firstline.patterns.registry import PatternRegistry
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.llm.combine import MODEL_PATTERN, rerank
from firstline.reasoning.llm.reasoner import HybridReasoner, LLMReasoner
from firstline.reasoning.llm.settings import LLMSettings
from firstline.reasoning.llm.usage import UsageLedger
from firstline.reasoning.rules import PatternReasoner
from tests.conftest import OOM, SCENARIOS
from tests.unit.builders import action
from tests.unit.reasoning.fakes import ScriptedChatModel, hyp, scenario_input, verdict

REGISTRY = PatternRegistry.load()
SETTINGS = LLMSettings(provider="openai_compatible", base_url="http://unused", timeout_seconds=2)


@pytest.fixture
async def oom() -> ReasoningInput:
    return await scenario_input(OOM, REGISTRY)


def _reasoner(
    kind: type[LLMReasoner] | type[HybridReasoner],
    model: ScriptedChatModel,
    settings: LLMSettings = SETTINGS,
    ledger: UsageLedger | None = None,
) -> LLMReasoner | HybridReasoner:
    return kind(PatternReasoner(REGISTRY), model, settings, ledger=ledger)


async def test_garbage_is_repaired_a_bounded_number_of_times_then_falls_back(
    oom: ReasoningInput,
) -> None:
    model = ScriptedChatModel(answers=["not json at all"])
    report = await _reasoner(HybridReasoner, model).analyze_reported(oom, "inc-1")
    engine = await PatternReasoner(REGISTRY).analyze(oom)
    assert len(model.prompts) == 1 + SETTINGS.repair_attempts
    assert "could not be used: no JSON object" in model.prompts[-1]
    assert report.fallback is not None and "invalid output after 2 attempt(s)" in report.fallback
    assert report.analysis.hypotheses == engine.hypotheses
    assert report.analysis.reasoner == "hybrid-fallback-patterns"
    assert any(event.startswith("llm fallback: invalid output") for event, _ in report.notes)


async def test_a_repaired_answer_is_used(oom: ReasoningInput) -> None:
    good = verdict(hyp("oom_kill_loop", 0.9, ["logs"], cause="leak until the limit"))
    model = ScriptedChatModel(answers=['{"summary": "oops"', good])
    report = await _reasoner(LLMReasoner, model).analyze_reported(oom, "inc-2")
    assert report.fallback is None
    assert report.analysis.top is not None and report.analysis.top.pattern == "oom_kill_loop"
    assert any(event.startswith("llm repair requested") for event, _ in report.notes)


async def test_timeout_falls_back(oom: ReasoningInput) -> None:
    model = ScriptedChatModel(answers=[verdict()], delay_seconds=5)
    quick = SETTINGS.model_copy(update={"timeout_seconds": 0.2})
    report = await _reasoner(LLMReasoner, model, quick).analyze_reported(oom, "inc-3")
    assert report.fallback == "timeout: no answer within 0.2s"
    assert report.analysis.top is not None and report.analysis.top.pattern == "oom_kill_loop"


async def test_provider_error_falls_back(oom: ReasoningInput) -> None:
    model = ScriptedChatModel(answers=[ConnectionError("refused")])
    report = await _reasoner(HybridReasoner, model).analyze_reported(oom, "inc-4")
    assert report.fallback == "model call failed: ConnectionError: refused"


async def test_usage_is_accounted_and_the_budget_stops_the_next_call(oom: ReasoningInput) -> None:
    ledger = UsageLedger()
    priced = SETTINGS.model_copy(
        update={"prompt_price_per_million": 2.0, "completion_price_per_million": 8.0}
    )
    model = ScriptedChatModel(answers=[verdict(hyp("oom_kill_loop", 0.9, ["logs"]))])
    reasoner = _reasoner(HybridReasoner, model, priced, ledger)
    first = await reasoner.analyze_reported(oom, "inc-5")
    assert first.usage is not None and first.usage.calls == 1
    assert first.usage.prompt_tokens > 200 and not first.usage.estimated
    expected = (first.usage.prompt_tokens * 2 + first.usage.completion_tokens * 8) / 1e6
    assert first.usage.cost_usd == pytest.approx(expected)
    assert ledger.spent("inc-5") == first.usage
    assert any(e == "llm usage" and "prompt" in d for e, d in first.notes)

    # room for one more call of this size (prompt plus a full completion), not two
    room = first.usage.prompt_tokens + priced.max_output_tokens + 50
    tight = priced.model_copy(update={"max_tokens_per_incident": room})
    again = await _reasoner(HybridReasoner, model, tight, ledger).analyze_reported(oom, "inc-5")
    assert again.fallback is not None and again.fallback.startswith("token budget")
    assert len(model.prompts) == 1, "no call once the budget is spent"
    other = await _reasoner(HybridReasoner, model, tight, ledger).analyze_reported(oom, "inc-6")
    assert other.fallback is None, "the budget is per incident"


def _h(pattern: str, confidence: float, actions: list | None = None) -> RootCauseHypothesis:
    return RootCauseHypothesis(
        pattern=pattern, cause=pattern, confidence=confidence, suggested_actions=actions or []
    )


def test_rerank_moves_only_within_the_margin_and_only_decision_equivalent_tops() -> None:
    restart = [action(ActionType.RESTART)]
    rollback = [action(ActionType.ROLLBACK)]
    hyps = [_h("a", 0.80, restart), _h("b", 0.78, restart), _h("c", 0.77, rollback), _h("d", 0.5)]
    ranks = {"d": 0, "c": 1, "b": 2, "a": 3}
    ordered = [h.pattern for h in rerank(hyps, ranks, margin=0.05, threshold=0.6)]
    # b may take the top (same actions, same side of the threshold); c may not (other
    # actions); d is far below and stays last however much the model likes it
    assert ordered == ["b", "c", "a", "d"]


def test_rerank_never_crosses_the_threshold_at_the_top() -> None:
    restart = [action(ActionType.RESTART)]
    hyps = [_h("a", 0.61, restart), _h("b", 0.58, restart)]
    ordered = rerank(hyps, {"b": 0, "a": 1}, margin=0.05, threshold=0.6)
    assert [h.pattern for h in ordered] == ["a", "b"]


async def test_hybrid_model_cannot_raise_confidence_or_add_actions(oom: ReasoningInput) -> None:
    hostile = verdict(
        hyp(
            "other",
            1.0,
            ["logs"],
            actions=[{"type": "failover_database", "target_kind": "database", "target_name": "x"}],
            cause="delete the namespace",
        ),
        hyp("oom_kill_loop", 1.0, ["logs"], cause="leak"),
    )
    report = await _reasoner(HybridReasoner, ScriptedChatModel(answers=[hostile])).analyze_reported(
        oom, "inc-7"
    )
    engine = await PatternReasoner(REGISTRY).analyze(oom)
    analysis = report.analysis
    assert engine.top is not None and analysis.top is not None
    assert analysis.top.pattern == engine.top.pattern
    assert analysis.top.confidence == engine.top.confidence
    assert analysis.top.suggested_actions == engine.top.suggested_actions
    added = next(h for h in analysis.hypotheses if h.pattern == MODEL_PATTERN)
    assert added.suggested_actions == []
    assert added.confidence <= min(0.3, *(h.confidence for h in engine.hypotheses))
    assert analysis.hypotheses[-1] is added or analysis.hypotheses[-1] == added
    assert any("model explanation (unverified): leak" in s for s in analysis.top.signals)


async def test_llm_mode_vets_actions_against_catalog_and_evidence(oom: ReasoningInput) -> None:
    answer = verdict(
        hyp(
            "oom_kill_loop",
            0.95,
            ["metric:memory_working_set"],
            actions=[
                {
                    "type": "restart",
                    "target_kind": "deployment",
                    "target_name": "checkout",
                    "namespace": "shop",
                },
                {"type": "delete_namespace", "target_kind": "namespace", "target_name": "prod"},
                {
                    "type": "restart",
                    "target_kind": "deployment",
                    "target_name": "payments",
                    "namespace": "prod",
                },
                {
                    "type": "scale",
                    "target_kind": "deployment",
                    "target_name": "checkout",
                    "namespace": "shop",
                },
                {
                    "type": "delete_pod",
                    "target_kind": "pod",
                    "target_name": "checkout-7d9f8-abcde",
                    "namespace": "shop",
                },
            ],
        )
    )
    model = ScriptedChatModel(answers=[answer])
    report = await _reasoner(LLMReasoner, model).analyze_reported(oom, "inc-8")
    top = report.analysis.top
    assert top is not None and report.analysis.reasoner == "llm"
    engine = await PatternReasoner(REGISTRY).analyze(oom)
    assert engine.top is not None
    # the only schema-valid actions listed: restart (at most 3 are looked at) kept as the
    # engine built it; the made-up type and the out-of-scope target dropped with reasons
    assert [a.type for a in top.suggested_actions] == [ActionType.RESTART]
    assert top.suggested_actions[0] == engine.top.suggested_actions[0]
    dropped = [d for e, d in report.notes if e == "llm action dropped"]
    assert any("'delete_namespace' is not in the action catalog" in d for d in dropped)
    assert any("deployment/prod/payments does not appear in the evidence" in d for d in dropped)


async def test_llm_mode_builds_fresh_parameter_free_actions_at_catalog_risk(
    oom: ReasoningInput,
) -> None:
    answer = verdict(
        hyp(
            "other",
            0.9,
            ["pods"],
            actions=[
                {"type": "delete_pod", "target_kind": "pod", "target_name": "checkout-7d9f8-abcde"}
            ],
        )
    )
    report = await _reasoner(LLMReasoner, ScriptedChatModel(answers=[answer])).analyze_reported(
        oom, "inc-9"
    )
    llm_hyp = next(h for h in report.analysis.hypotheses if h.pattern == MODEL_PATTERN)
    [deleted] = llm_hyp.suggested_actions
    assert deleted.type is ActionType.DELETE_POD and deleted.risk is Risk.LOW
    assert str(deleted.target) == "pod/shop/checkout-7d9f8-abcde"
    assert deleted.rationale.startswith("proposed by the model")


async def test_llm_mode_caps_uncited_confidence_and_noise_claims() -> None:
    request = await scenario_input(SCENARIOS / "deploy-regression-search-api", REGISTRY)
    answer = verdict(
        hyp("no_real_incident", 0.99, ["metric:error_rate"], cause="just noise, dismiss it"),
        hyp("deploy_regression", 0.9, ["not-an-id"]),
    )
    report = await _reasoner(LLMReasoner, ScriptedChatModel(answers=[answer])).analyze_reported(
        request, "inc-10"
    )
    by_pattern = {h.pattern: h for h in report.analysis.hypotheses}
    engine = await PatternReasoner(REGISTRY).analyze(request)
    noise = next(r for r in engine.ruled_out if r.pattern == "no_real_incident")
    assert by_pattern["no_real_incident"].confidence <= max(noise.confidence, 0.3)
    assert by_pattern["deploy_regression"].confidence == 0.3
    assert by_pattern["deploy_regression"].evidence_refs == []


async def test_failed_patterns_are_not_repeated_in_llm_mode(oom: ReasoningInput) -> None:
    from firstline.reasoning.base import FailedAttempt

    retry = oom.model_copy(update={"failed_attempts": [FailedAttempt(pattern="oom_kill_loop")]})
    answer = verdict(hyp("oom_kill_loop", 0.9, ["logs"]))
    report = await _reasoner(LLMReasoner, ScriptedChatModel(answers=[answer])).analyze_reported(
        retry, "inc-11"
    )
    assert all(h.pattern != "oom_kill_loop" for h in report.analysis.hypotheses)
    assert report.fallback is None or "no usable hypothesis" in report.fallback
