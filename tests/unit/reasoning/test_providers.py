"""Provider clients are built from settings without any network call; keys come from
settings or the environment, and JSON is requested the way each provider understands."""

from __future__ import annotations

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI

from firstline.patterns.registry import PatternRegistry
from firstline.reasoning.llm.factory import build_reasoner
from firstline.reasoning.llm.providers import ProviderConfigError, build_chat_model, call_options
from firstline.reasoning.llm.reasoner import HybridReasoner, LLMReasoner
from firstline.reasoning.llm.settings import LLMSettings, ReasoningMode, ReasoningSettings
from firstline.reasoning.rules import PatternReasoner

SCHEMA = {"type": "object"}


def test_openai_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-env")
    model = build_chat_model(LLMSettings(provider="openai", model="gpt-4o", timeout_seconds=7))
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "sk-test-env"
    assert model.request_timeout == 7
    assert call_options(LLMSettings(provider="openai"), SCHEMA) == {
        "response_format": {"type": "json_object"}
    }


def test_missing_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ProviderConfigError, match="Anthropic key"):
        build_chat_model(LLMSettings(provider="anthropic", model="claude-sonnet-4-5"))


def test_anthropic_with_key_from_a_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_CLAUDE_KEY", "sk-ant-test")
    settings = LLMSettings(
        provider="anthropic", model="claude-sonnet-4-5", api_key_env="MY_CLAUDE_KEY"
    )
    model = build_chat_model(settings)
    assert isinstance(model, ChatAnthropic)
    assert model.max_tokens == settings.max_output_tokens
    assert call_options(settings, SCHEMA) == {}


def test_openai_compatible_needs_a_base_url_and_sends_max_tokens_in_the_body() -> None:
    with pytest.raises(ProviderConfigError, match="base_url"):
        build_chat_model(LLMSettings(provider="openai_compatible"))
    settings = LLMSettings(
        provider="openai_compatible", base_url="http://127.0.0.1:9/v1", max_output_tokens=99
    )
    model = build_chat_model(settings)
    assert isinstance(model, ChatOpenAI)
    assert str(model.openai_api_base) == "http://127.0.0.1:9/v1"
    body = call_options(settings, SCHEMA)["extra_body"]
    assert body == {"response_format": {"type": "json_object", "schema": SCHEMA}, "max_tokens": 99}


def test_ollama_gets_the_schema_as_format() -> None:
    settings = LLMSettings(provider="ollama", model="llama3.2", base_url="http://127.0.0.1:9")
    assert isinstance(build_chat_model(settings), ChatOllama)
    assert call_options(settings, SCHEMA) == {"format": SCHEMA}


def test_rules_mode_builds_no_client_even_with_a_broken_llm_config() -> None:
    registry = PatternRegistry.load()
    broken = ReasoningSettings(llm=LLMSettings(provider="openai_compatible"))  # no base_url
    assert isinstance(build_reasoner(broken, registry), PatternReasoner)
    hybrid = ReasoningSettings(
        mode=ReasoningMode.HYBRID,
        llm=LLMSettings(provider="openai_compatible", base_url="http://127.0.0.1:9/v1"),
    )
    assert isinstance(build_reasoner(hybrid, registry), HybridReasoner)
    llm = hybrid.model_copy(update={"mode": ReasoningMode.LLM})
    assert isinstance(build_reasoner(llm, registry), LLMReasoner)
