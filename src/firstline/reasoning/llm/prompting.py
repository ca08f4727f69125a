"""Fills the prompt templates in `prompts/` (package data, no code) into chat messages."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from string import Template

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from firstline.reasoning.llm.digest import Digest
from firstline.reasoning.llm.output import OTHER

_PACKAGE = "firstline.reasoning.llm.prompts"


@cache
def template(name: str) -> Template:
    return Template(resources.files(_PACKAGE).joinpath(f"{name}.txt").read_text("utf-8"))


def fence_id(digest: Digest) -> str:
    """Derived from the content, so the same incident gets the same prompt (reproducible),
    and untrusted text cannot know it in advance to close the fence early."""
    return hashlib.sha256(digest.text.encode()).hexdigest()[:12]


def task_messages(
    task: str, digest: Digest, candidates: list[str], action_types: list[str]
) -> list[BaseMessage]:
    fence = fence_id(digest)
    system = template("system").substitute(fence=fence)
    body = template(task).substitute(
        fence=fence,
        digest=digest.text,
        candidates=", ".join(candidates) or "none",
        actions=", ".join(action_types),
        other=OTHER,
    )
    return [SystemMessage(system), HumanMessage(body)]


def repair_messages(messages: list[BaseMessage], answer: str, error: str) -> list[BaseMessage]:
    """The conversation so far, the bad answer (clipped) and what was wrong with it."""
    return [
        *messages,
        AIMessage(answer[:1500]),
        HumanMessage(template("repair").substitute(error=error)),
    ]


def prompt_text(messages: list[BaseMessage]) -> str:
    return "\n".join(str(m.content) for m in messages)
