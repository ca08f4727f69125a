"""Settings of the reasoning group: which mode, and how to reach and bound a model."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ReasoningMode(StrEnum):
    RULES = "rules"
    """The pattern engine alone (default; no model is ever called)."""
    LLM = "llm"
    """The model diagnoses from the evidence digest; the pattern engine is the fallback."""
    HYBRID = "hybrid"
    """The pattern engine proposes and scores; the model ranks near-ties and explains."""


Provider = Literal["openai", "anthropic", "ollama", "openai_compatible"]

DEFAULT_KEY_ENV: dict[str, str | None] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "ollama": None,
    "openai_compatible": "FIRSTLINE_LLM_API_KEY",
}


class LLMSettings(BaseModel):
    """How to reach a chat model and how much one incident may spend on it."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider = Field(
        default="openai_compatible",
        description="openai | anthropic | ollama | openai_compatible (vLLM, llama.cpp, LiteLLM).",
    )
    model: str = Field(default="gpt-4o-mini", description="Model name as the provider spells it.")
    base_url: str | None = Field(
        default=None, description="Endpoint; required for openai_compatible, optional otherwise."
    )
    api_key: SecretStr | None = Field(
        default=None, description="Key; when unset it is read from `api_key_env` at build time."
    )
    api_key_env: str | None = Field(
        default=None,
        description="Environment variable holding the key (default per provider, e.g. "
        "OPENAI_API_KEY, ANTHROPIC_API_KEY, FIRSTLINE_LLM_API_KEY).",
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="One model call, end to end.")
    max_retries: int = Field(
        default=1, ge=0, le=5, description="Transport retries inside the provider client."
    )
    max_output_tokens: int = Field(default=600, ge=32, le=8192, description="Per call.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    repair_attempts: int = Field(
        default=1, ge=0, le=3, description="Extra calls that ask the model to fix invalid output."
    )
    json_mode: Literal["auto", "schema", "json_object", "prompt"] = Field(
        default="auto",
        description="How JSON is enforced: 'schema' sends response_format json_object with the "
        "JSON schema (llama.cpp, vLLM), 'json_object' plain JSON mode (OpenAI), 'prompt' asks "
        "in the prompt only. 'auto' picks per provider.",
    )
    digest_tokens: int = Field(
        default=2500, ge=200, le=50_000, description="Token budget of the evidence digest."
    )
    max_tokens_per_incident: int = Field(
        default=20_000, ge=0, description="Prompt plus completion tokens one incident may use."
    )
    max_cost_per_incident_usd: float = Field(
        default=0.50, ge=0, description="Spending cap per incident (from the prices below)."
    )
    prompt_price_per_million: float = Field(
        default=0.0, ge=0, description="USD per million prompt tokens, for cost accounting."
    )
    completion_price_per_million: float = Field(
        default=0.0, ge=0, description="USD per million completion tokens."
    )
    hybrid_margin: float = Field(
        default=0.05,
        ge=0,
        le=0.2,
        description="Hybrid: the model may reorder hypotheses whose pattern scores are this close.",
    )
    added_hypothesis_cap: float = Field(
        default=0.3,
        ge=0,
        le=0.5,
        description="Highest confidence a model-only hypothesis (no pattern behind it) may carry.",
    )


class ReasoningSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: ReasoningMode = Field(default=ReasoningMode.RULES, description="rules | llm | hybrid.")
    llm: LLMSettings = Field(default_factory=LLMSettings)
