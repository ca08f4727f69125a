"""Whole incident runs (real graph, store, checkpointer, replayed scenario) with a scripted
model: the fallback and the token usage land in the stored timeline."""

from __future__ import annotations

from firstline.domain.decision import Outcome
from firstline.graph.report import render_text
from firstline.patterns.registry import PatternRegistry
from firstline.policy.schema import Mode
from firstline.reasoning.llm.reasoner import HybridReasoner, LLMReasoner
from firstline.reasoning.llm.settings import LLMSettings
from firstline.reasoning.llm.usage import UsageLedger
from firstline.reasoning.rules import PatternReasoner
from firstline.store.incidents import IncidentStore
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings
from tests.conftest import OOM
from tests.unit.reasoning.fakes import ScriptedChatModel, hyp, verdict

SETTINGS = LLMSettings(provider="openai_compatible", base_url="http://unused", timeout_seconds=2)


async def _run(
    settings: Settings, reasoner: LLMReasoner | HybridReasoner
) -> tuple[str, list[tuple[str, str]]]:
    async with open_runtime(settings, scenario=OOM, mode=Mode.APPROVE, reasoner=reasoner) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=OOM)
    incident = outcome.state.incident_id
    timeline = IncidentStore(settings.store.incidents_db).timeline(incident)
    assert outcome.state.decisions, "every run ends in a decision"
    return incident, [(e.event, e.detail) for e in timeline if e.stage == "analyze"]


async def test_garbage_from_the_model_falls_back_and_is_recorded(settings: Settings) -> None:
    registry = PatternRegistry.load()
    model = ScriptedChatModel(answers=["<html>502 Bad Gateway</html>"])
    reasoner = HybridReasoner(PatternReasoner(registry), model, SETTINGS)
    _, notes = await _run(settings, reasoner)
    events = [e for e, _ in notes]
    assert any(e.startswith("llm fallback: invalid output after 2 attempt(s)") for e in events)
    assert "llm usage" in events
    assert any(e.startswith("top hypothesis oom_kill_loop") for e in events)


async def test_llm_mode_run_records_usage_per_incident(settings: Settings) -> None:
    registry = PatternRegistry.load()
    ledger = UsageLedger()
    answer = verdict(
        hyp(
            "oom_kill_loop",
            0.9,
            ["metric:memory_working_set"],
            actions=[
                {
                    "type": "restart",
                    "target_kind": "deployment",
                    "target_name": "checkout",
                    "namespace": "shop",
                }
            ],
        )
    )
    reasoner = LLMReasoner(
        PatternReasoner(registry), ScriptedChatModel(answers=[answer]), SETTINGS, ledger=ledger
    )
    async with open_runtime(settings, scenario=OOM, mode=Mode.APPROVE, reasoner=reasoner) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=OOM)
    state = outcome.state
    assert state.analyses[0].reasoner == "llm"
    assert state.decisions[0].outcome is Outcome.REQUEST_APPROVAL  # approve mode
    assert [a.type.value for a in state.decisions[0].actions] == ["restart"]
    spent = ledger.spent(state.incident_id)
    assert spent.calls == 1 and spent.prompt_tokens > 0
    timeline = IncidentStore(settings.store.incidents_db).timeline(state.incident_id)
    assert any(e.event == "llm usage" and "1 call(s)" in e.detail for e in timeline)
    # kept with the incident (checkpointed state), so reports and later runs see it
    assert state.llm_usage == spent
    assert f"LLM: {spent.describe()}" in render_text(state)
