"""Token and cost accounting per incident, and the budget that stops a model call.

Counts come from the provider's reported usage when it gives one. Otherwise (and for
estimates before a call) tokens are approximated as characters / 4, rounded up: a
documented rule of thumb for English and JSON with BPE tokenizers, and one that needs no
tokenizer download (tiktoken fetches its tables from the network on first use).
"""

from __future__ import annotations

import math
import threading

from pydantic import BaseModel, ConfigDict

from firstline.reasoning.llm.settings import LLMSettings

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


class Usage(BaseModel):
    """What model calls consumed; `estimated` when any count is the chars/4 approximation."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 8),
            calls=self.calls + other.calls,
            estimated=self.estimated or other.estimated,
        )

    def describe(self) -> str:
        approx = " (estimated)" if self.estimated else ""
        return (
            f"{self.prompt_tokens} prompt + {self.completion_tokens} completion tokens{approx}, "
            f"${self.cost_usd:.6f}, {self.calls} call(s)"
        )


def priced(prompt_tokens: int, completion_tokens: int, settings: LLMSettings) -> float:
    return round(
        prompt_tokens * settings.prompt_price_per_million / 1e6
        + completion_tokens * settings.completion_price_per_million / 1e6,
        8,
    )


class BudgetExceeded(Exception):
    """The next call would take the incident over its token or cost budget."""


class UsageLedger:
    """Usage per incident id, in this process. Reports and /metrics read it; the budget is
    checked against it before every call."""

    def __init__(self) -> None:
        self.by_incident: dict[str, Usage] = {}
        self.fallbacks: dict[str, int] = {}
        self.lock = threading.Lock()

    def record_fallback(self, reason: str) -> None:
        """Counted by kind (the reason's first word: timeout, invalid, model, token, cost...)."""
        kind = (reason.split(maxsplit=1) or ["other"])[0].strip(":").lower()
        with self.lock:
            self.fallbacks[kind] = self.fallbacks.get(kind, 0) + 1

    def spent(self, incident: str) -> Usage:
        with self.lock:
            return self.by_incident.get(incident, Usage())

    def charge(self, incident: str, usage: Usage) -> Usage:
        with self.lock:
            total = self.by_incident.get(incident, Usage()) + usage
            self.by_incident[incident] = total
            return total

    def totals(self) -> Usage:
        with self.lock:
            return sum(self.by_incident.values(), Usage())

    def check(self, incident: str, prompt_text: str, settings: LLMSettings) -> None:
        """Refuse a call whose prompt plus a full completion would exceed the budget."""
        spent = self.spent(incident)
        prompt = estimate_tokens(prompt_text)
        next_tokens = prompt + settings.max_output_tokens
        if spent.total_tokens + next_tokens > settings.max_tokens_per_incident:
            raise BudgetExceeded(
                f"token budget: {spent.total_tokens} used + ~{next_tokens} needed > "
                f"{settings.max_tokens_per_incident}"
            )
        next_cost = priced(prompt, settings.max_output_tokens, settings)
        if spent.cost_usd + next_cost > settings.max_cost_per_incident_usd:
            raise BudgetExceeded(
                f"cost budget: ${spent.cost_usd:.4f} used + ~${next_cost:.4f} needed > "
                f"${settings.max_cost_per_incident_usd:.4f}"
            )
