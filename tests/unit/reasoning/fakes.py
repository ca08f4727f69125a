"""A scripted chat model for unit tests: the stand-in for a hosted LLM, which no test calls.

It implements LangChain's BaseChatModel, so the reasoners drive it exactly as they drive
ChatOpenAI. Each answer is a string, an exception to raise, or a function of the prompt
(to play a model that obeys whatever the evidence tells it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from firstline.detection.detectors import get_detector
from firstline.graph.gathering import gather, scope_for
from firstline.patterns.registry import PatternRegistry
from firstline.policy.severity import triage_severity
from firstline.reasoning.base import ReasoningInput
from firstline.scenarios.loader import load_bundle
from firstline.scenarios.world import ReplayWorld
from firstline.sources.replay import ReplaySource

Answer = str | BaseException | Callable[[str], str]


class ScriptedChatModel(BaseChatModel):
    answers: list[Answer]
    delay_seconds: float = 0.0
    prompts: list[str] = []
    options: list[dict[str, Any]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> ChatResult:
        prompt = "\n".join(str(m.content) for m in messages)
        self.prompts.append(prompt)
        self.options.append(kwargs)
        if not self.answers:
            raise AssertionError("the scripted model ran out of answers")
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        text = answer(prompt) if callable(answer) else answer
        message = AIMessage(
            content=text,
            usage_metadata={
                "input_tokens": len(prompt) // 4 + 1,
                "output_tokens": len(text) // 4 + 1,
                "total_tokens": (len(prompt) + len(text)) // 4 + 2,
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._reply(messages, kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        return self._reply(messages, kwargs)


def verdict(*hypotheses: dict[str, Any], summary: str = "scripted") -> str:
    return json.dumps({"summary": summary, "hypotheses": list(hypotheses)})


def hyp(
    pattern: str,
    confidence: float = 0.5,
    evidence: list[str] | None = None,
    actions: list[dict[str, Any]] | None = None,
    cause: str = "scripted cause",
) -> dict[str, Any]:
    return {
        "pattern": pattern,
        "cause": cause,
        "confidence": confidence,
        "evidence": evidence or [],
        "actions": actions or [],
    }


async def scenario_input(path: Path, registry: PatternRegistry) -> ReasoningInput:
    """What the analyze node would get for a bundle: triage's candidates and severity, and
    the evidence gathered from the replayed world (real detector, real gatherer)."""
    bundle = load_bundle(path)
    alert = bundle.primary_alert
    candidates = registry.candidates(alert)
    specific = [p for p in candidates if not p.universal and p.applies_to(alert)]
    severity, _ = triage_severity(alert, specific[0].default_severity if specific else None)
    scope = scope_for(alert, bundle.now, timedelta(minutes=60))
    evidence = await gather(
        ReplaySource(ReplayWorld(bundle)),
        scope,
        registry.metric_queries([p.id for p in candidates]),
        get_detector("robust_shift"),
    )
    return ReasoningInput(
        alert=alert, severity=severity, candidates=[p.id for p in candidates], evidence=evidence
    )


NOW = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)
