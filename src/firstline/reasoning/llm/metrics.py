"""Prometheus view of the usage ledger, read at scrape time (register it on any registry)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from firstline.reasoning.llm.usage import UsageLedger


class LLMUsageCollector(Collector):
    def __init__(self, ledger: UsageLedger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterator[CounterMetricFamily]:
        totals = self.ledger.totals()
        tokens = CounterMetricFamily(
            "firstline_llm_tokens", "Model tokens used by reasoning, by kind.", labels=["kind"]
        )
        tokens.add_metric(["prompt"], totals.prompt_tokens)
        tokens.add_metric(["completion"], totals.completion_tokens)
        yield tokens
        yield CounterMetricFamily(
            "firstline_llm_cost_usd",
            "Model cost in USD (configured prices).",
            value=totals.cost_usd,
        )
        yield CounterMetricFamily(
            "firstline_llm_calls", "Model calls made by reasoning.", value=totals.calls
        )
        fallbacks = CounterMetricFamily(
            "firstline_llm_fallbacks",
            "Analyses that fell back to the pattern engine, by reason kind.",
            labels=["reason"],
        )
        for kind, count in sorted(self.ledger.fallbacks.items()):
            fallbacks.add_metric([kind], count)
        yield fallbacks
