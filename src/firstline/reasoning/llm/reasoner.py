"""LLMReasoner (mode `llm`) and HybridReasoner (mode `hybrid`) behind the Reasoner port.

Both run the pattern engine first: its result is the fallback whenever the model times
out, fails, overspends or answers something unusable, and in hybrid mode it is also the
substance the model may only rank and explain. Neither ever raises into the graph.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import structlog
from langchain_core.language_models.chat_models import BaseChatModel

from firstline.domain.action import ActionType
from firstline.domain.hypothesis import Analysis
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.llm.calling import ask_for_verdict
from firstline.reasoning.llm.combine import Combined, analysis_from_verdict, combine_hybrid
from firstline.reasoning.llm.digest import Digest, build_digest
from firstline.reasoning.llm.outcome import ReasoningReport
from firstline.reasoning.llm.output import ModelVerdict, response_schema
from firstline.reasoning.llm.prompting import task_messages
from firstline.reasoning.llm.providers import call_options
from firstline.reasoning.llm.settings import LLMSettings
from firstline.reasoning.llm.usage import UsageLedger
from firstline.reasoning.rules import PatternReasoner

log = structlog.get_logger(__name__)

ACTION_TYPES = [t.value for t in ActionType]


class _ModelReasoner(ABC):
    name: str
    task: str

    def __init__(
        self,
        engine: PatternReasoner,
        model: BaseChatModel,
        settings: LLMSettings,
        *,
        ledger: UsageLedger | None = None,
        confidence_threshold: float = 0.6,
    ) -> None:
        self.engine = engine
        self.model = model
        self.settings = settings
        self.ledger = ledger or UsageLedger()
        self.confidence_threshold = confidence_threshold

    async def analyze(self, request: ReasoningInput) -> Analysis:
        report = await self.analyze_reported(request, request.alert.fingerprint)
        return report.analysis

    async def analyze_reported(self, request: ReasoningInput, incident: str) -> ReasoningReport:
        base = await self.engine.analyze(request)
        digest = build_digest(request, base, self.settings.digest_tokens)
        patterns = shortlist(base, request.candidates)
        messages = task_messages(self.task, digest, patterns, ACTION_TYPES)
        schema = response_schema(patterns, digest.refs, ACTION_TYPES)
        result = await ask_for_verdict(
            self.model,
            messages,
            settings=self.settings,
            options=call_options(self.settings, schema),
            ledger=self.ledger,
            incident=incident,
        )
        spent = self.ledger.spent(incident)
        usage_note = (
            "llm usage",
            f"this analysis: {result.usage.describe()}; incident so far: {spent.describe()}; "
            f"digest ~{digest.tokens} tokens",
        )
        notes: list[tuple[str, str]] = [
            (f"llm repair requested: {e[:80]}", e) for e in result.repairs
        ]
        if result.verdict is None:
            reason = result.failure or "no verdict"
            log.warning("llm fallback", reasoner=self.name, incident=incident, reason=reason)
            self.ledger.record_fallback(reason)
            fallback = base.model_copy(update={"reasoner": f"{self.name}-fallback-patterns"})
            notes += [(f"llm fallback: {reason[:120]}", reason), usage_note]
            return ReasoningReport(
                analysis=fallback, notes=notes, usage=result.usage, fallback=reason
            )
        combined = self.combine(result.verdict, base, request, digest)
        if not combined.analysis.hypotheses and base.hypotheses:
            reason = "the model's answer held no usable hypothesis"
            self.ledger.record_fallback("unusable answer")
            fallback = base.model_copy(update={"reasoner": f"{self.name}-fallback-patterns"})
            notes += [*combined.notes, (f"llm fallback: {reason}", reason), usage_note]
            return ReasoningReport(
                analysis=fallback, notes=notes, usage=result.usage, fallback=reason
            )
        summary = result.verdict.summary.strip()
        notes += [
            *combined.notes,
            (f"{self.name} analysis by the model", summary[:500]),
            usage_note,
        ]
        return ReasoningReport(analysis=combined.analysis, notes=notes, usage=result.usage)

    @abstractmethod
    def combine(
        self, verdict: ModelVerdict, base: Analysis, request: ReasoningInput, digest: Digest
    ) -> Combined: ...


SHORTLIST = 6
"""Patterns a model is asked to rank: every pattern is scored, but a small model answers
for a handful (the hypotheses, then the strongest ruled-out ones), not for all of them."""


def shortlist(base: Analysis, candidates: list[str]) -> list[str]:
    ranked = [h.pattern for h in base.hypotheses]
    ranked += [r.pattern for r in base.ruled_out if r.pattern not in ranked]
    if not ranked:
        ranked = list(candidates)
    return sorted(ranked[: max(SHORTLIST, len(base.hypotheses))])


class LLMReasoner(_ModelReasoner):
    """The model diagnoses; its actions are vetted against the catalog and the evidence."""

    name = "llm"
    task = "llm_task"

    def combine(
        self, verdict: ModelVerdict, base: Analysis, request: ReasoningInput, digest: Digest
    ) -> Combined:
        return analysis_from_verdict(
            verdict,
            base,
            request,
            known_refs=set(digest.refs),
            cap=self.settings.added_hypothesis_cap,
        )


class HybridReasoner(_ModelReasoner):
    """The pattern engine decides what is supported; the model ranks near-ties and explains."""

    name = "hybrid"
    task = "hybrid_task"

    def combine(
        self, verdict: ModelVerdict, base: Analysis, request: ReasoningInput, digest: Digest
    ) -> Combined:
        return combine_hybrid(
            base,
            verdict,
            known_refs=set(digest.refs),
            margin=self.settings.hybrid_margin,
            cap=self.settings.added_hypothesis_cap,
            threshold=self.confidence_threshold,
        )
