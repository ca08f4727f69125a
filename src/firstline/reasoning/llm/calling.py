"""One bounded conversation with the model: call, parse, ask for a repair, give up.

Never raises: every way a call can fail (timeout, transport error, budget, invalid output
after the last repair) becomes a CallResult with `verdict=None` and a reason, and the
reasoner falls back to the pattern engine.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, ConfigDict

from firstline.reasoning.llm.output import ModelVerdict, OutputError, parse_verdict
from firstline.reasoning.llm.prompting import prompt_text, repair_messages
from firstline.reasoning.llm.settings import LLMSettings
from firstline.reasoning.llm.usage import (
    BudgetExceeded,
    Usage,
    UsageLedger,
    estimate_tokens,
    priced,
)


class CallResult(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    verdict: ModelVerdict | None
    failure: str | None = None
    usage: Usage = Usage()
    attempts: int = 0
    repairs: list[str] = []


def _text(reply: BaseMessage) -> str:
    content = reply.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content]
    return "".join(parts)


def _usage(reply: BaseMessage, prompt: str, answer: str, settings: LLMSettings) -> Usage:
    reported = reply.usage_metadata if isinstance(reply, AIMessage) else None
    if reported and reported.get("input_tokens"):
        prompt_tokens, completion_tokens = reported["input_tokens"], reported["output_tokens"]
        estimated = False
    else:
        prompt_tokens, completion_tokens = estimate_tokens(prompt), estimate_tokens(answer)
        estimated = True
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=priced(prompt_tokens, completion_tokens, settings),
        calls=1,
        estimated=estimated,
    )


def _unanswered(incident: str, prompt: str, settings: LLMSettings, ledger: UsageLedger) -> Usage:
    """A call that timed out or failed may still have been billed for its prompt: charge
    the estimate, so the budget errs on the safe side."""
    tokens = estimate_tokens(prompt)
    spent = Usage(
        prompt_tokens=tokens,
        cost_usd=priced(tokens, 0, settings),
        calls=1,
        estimated=True,
    )
    ledger.charge(incident, spent)
    return spent


async def ask_for_verdict(
    model: BaseChatModel,
    messages: list[BaseMessage],
    *,
    settings: LLMSettings,
    options: dict[str, Any],
    ledger: UsageLedger,
    incident: str,
) -> CallResult:
    usage = Usage()
    repairs: list[str] = []
    for attempt in range(1, settings.repair_attempts + 2):
        prompt = prompt_text(messages)
        try:
            ledger.check(incident, prompt, settings)
        except BudgetExceeded as exc:
            return CallResult(verdict=None, failure=str(exc), usage=usage, attempts=attempt - 1)
        try:
            reply = await asyncio.wait_for(
                model.ainvoke(messages, **options), settings.timeout_seconds
            )
        except TimeoutError:
            failure = f"timeout: no answer within {settings.timeout_seconds:g}s"
            usage += _unanswered(incident, prompt, settings, ledger)
            return CallResult(verdict=None, failure=failure, usage=usage, attempts=attempt)
        except Exception as exc:  # any provider error: the pattern engine takes over
            failure = f"model call failed: {type(exc).__name__}: {str(exc)[:200]}"
            usage += _unanswered(incident, prompt, settings, ledger)
            return CallResult(verdict=None, failure=failure, usage=usage, attempts=attempt)
        answer = _text(reply)
        spent = _usage(reply, prompt, answer, settings)
        usage += spent
        ledger.charge(incident, spent)
        try:
            verdict = parse_verdict(answer)
        except OutputError as exc:
            repairs.append(str(exc))
            messages = repair_messages(messages, answer, str(exc))
            continue
        return CallResult(verdict=verdict, usage=usage, attempts=attempt, repairs=repairs)
    failure = f"invalid output after {len(repairs)} attempt(s): {repairs[-1]}"
    return CallResult(
        verdict=None, failure=failure, usage=usage, attempts=len(repairs), repairs=repairs
    )
