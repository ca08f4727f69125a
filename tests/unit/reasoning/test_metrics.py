"""The usage ledger as Prometheus metrics, through a real registry and exposition."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from firstline.reasoning.llm.metrics import LLMUsageCollector
from firstline.reasoning.llm.usage import Usage, UsageLedger


def test_ledger_totals_and_fallbacks_are_exposed() -> None:
    ledger = UsageLedger()
    ledger.charge("a", Usage(prompt_tokens=100, completion_tokens=10, cost_usd=0.5, calls=1))
    ledger.charge("b", Usage(prompt_tokens=50, completion_tokens=5, cost_usd=0.25, calls=2))
    ledger.record_fallback("timeout: no answer within 3s")
    ledger.record_fallback("timeout: no answer within 3s")
    ledger.record_fallback("invalid output after 2 attempt(s): ...")
    registry = CollectorRegistry()
    registry.register(LLMUsageCollector(ledger))
    text = generate_latest(registry).decode()
    assert 'firstline_llm_tokens_total{kind="prompt"} 150.0' in text
    assert 'firstline_llm_tokens_total{kind="completion"} 15.0' in text
    assert "firstline_llm_cost_usd_total 0.75" in text
    assert "firstline_llm_calls_total 3.0" in text
    assert 'firstline_llm_fallbacks_total{reason="timeout"} 2.0' in text
    assert 'firstline_llm_fallbacks_total{reason="invalid"} 1.0' in text
