"""Builds the reasoner for a mode: the one function wiring/runtime.py calls."""

from __future__ import annotations

from langchain_core.language_models.chat_models import BaseChatModel

from firstline.patterns.registry import PatternRegistry
from firstline.reasoning.base import Reasoner
from firstline.reasoning.llm.reasoner import HybridReasoner, LLMReasoner
from firstline.reasoning.llm.settings import ReasoningMode, ReasoningSettings
from firstline.reasoning.llm.usage import UsageLedger
from firstline.reasoning.rules import PatternReasoner


def build_reasoner(
    settings: ReasoningSettings,
    registry: PatternRegistry,
    *,
    confidence_threshold: float = 0.6,
    model: BaseChatModel | None = None,
    ledger: UsageLedger | None = None,
) -> Reasoner:
    """`rules` never touches a model (nor builds a client); `model` overrides the provider
    (tests pass a scripted fake)."""
    engine = PatternReasoner(registry)
    if settings.mode is ReasoningMode.RULES:
        return engine
    from firstline.reasoning.llm.providers import build_chat_model

    chat = model or build_chat_model(settings.llm)
    kind = LLMReasoner if settings.mode is ReasoningMode.LLM else HybridReasoner
    return kind(
        engine,
        chat,
        settings.llm,
        ledger=ledger,
        confidence_threshold=confidence_threshold,
    )
