"""Builds a LangChain chat model from LLMSettings, and the per-call options that make it
answer JSON. Keys come from settings or the environment, read here (at build time), never
at import time. Provider packages are imported lazily: `rules` mode never loads them."""

from __future__ import annotations

import os
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel

from firstline.errors import InvalidInput
from firstline.reasoning.llm.settings import DEFAULT_KEY_ENV, LLMSettings


class ProviderConfigError(InvalidInput, ValueError):
    """The settings cannot produce a working client; the message says which field."""


def api_key(settings: LLMSettings) -> str | None:
    if settings.api_key is not None:
        return settings.api_key.get_secret_value()
    env = settings.api_key_env or DEFAULT_KEY_ENV[settings.provider]
    return os.environ.get(env) if env else None


def json_mode(settings: LLMSettings) -> str:
    if settings.json_mode != "auto":
        return settings.json_mode
    return {
        "openai": "json_object",
        "openai_compatible": "schema",
        "ollama": "schema",
        "anthropic": "prompt",
    }[settings.provider]


def build_chat_model(settings: LLMSettings) -> BaseChatModel:
    key = api_key(settings)
    if settings.provider == "openai":
        return _openai(settings, key, settings.base_url)
    if settings.provider == "openai_compatible":
        if not settings.base_url:
            raise ProviderConfigError("reasoning.llm.base_url is required for openai_compatible")
        # local servers usually need no key, but the client insists on one
        return _openai(settings, key or "not-needed", settings.base_url)
    if settings.provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        if not key:
            raise ProviderConfigError("no Anthropic key: set reasoning.llm.api_key or the env var")
        return ChatAnthropic(**_hosted_options(settings, key, settings.base_url))
    from langchain_ollama import ChatOllama

    ollama: dict[str, Any] = {
        "model": settings.model,
        "temperature": settings.temperature,
        "num_predict": settings.max_output_tokens,
        "client_kwargs": {"timeout": settings.timeout_seconds},
    }
    if settings.base_url:
        ollama["base_url"] = settings.base_url
    return ChatOllama(**ollama)


def _openai(settings: LLMSettings, key: str | None, base_url: str | None) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    if not key:
        raise ProviderConfigError("no OpenAI key: set reasoning.llm.api_key or OPENAI_API_KEY")
    return ChatOpenAI(**_hosted_options(settings, key, base_url))


def _hosted_options(settings: LLMSettings, key: str, base_url: str | None) -> dict[str, Any]:
    """The constructor options OpenAI's and Anthropic's LangChain clients share."""
    options: dict[str, Any] = {
        "model": settings.model,
        "api_key": key,
        "timeout": settings.timeout_seconds,
        "max_retries": settings.max_retries,
        "max_tokens": settings.max_output_tokens,
        "temperature": settings.temperature,
    }
    if base_url:
        options["base_url"] = base_url
    return options


def call_options(settings: LLMSettings, schema: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for `ainvoke` that ask for JSON the way this provider understands.

    OpenAI-compatible servers get `max_tokens` in the body too: langchain-openai sends
    `max_completion_tokens`, which llama.cpp's server ignores."""
    mode = json_mode(settings)
    if settings.provider == "ollama":
        return {"format": schema if mode == "schema" else "json"} if mode != "prompt" else {}
    if settings.provider == "anthropic":
        return {}
    body: dict[str, Any] = {}
    if settings.provider == "openai_compatible":
        body["max_tokens"] = settings.max_output_tokens
    if mode == "json_object":
        return {
            "response_format": {"type": "json_object"},
            **({"extra_body": body} if body else {}),
        }
    if mode == "schema":
        body["response_format"] = {"type": "json_object", "schema": schema}
    return {"extra_body": body} if body else {}
