"""What the model must answer, and how its text becomes that (or a precise complaint).

The schema is deliberately small: a weak model under constrained decoding can fill it, and
a strong one has little room to smuggle anything in. Nothing here is trusted yet: the
reasoners decide what of a verdict may reach an Analysis.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

OTHER = "other"
"""The pattern id a model uses for an explanation no candidate pattern covers."""


class ProposedAction(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(description="An action type from the catalog.")
    target_kind: str = Field(default="deployment")
    target_name: str
    namespace: str | None = None


class ModelHypothesis(BaseModel):
    model_config = ConfigDict(extra="ignore")

    pattern: str = Field(description="A candidate pattern id, or 'other'.")
    cause: str = Field(default="", max_length=600)
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list, description="Cited evidence ids.")
    actions: list[ProposedAction] = Field(default_factory=list)


class ModelVerdict(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(default="", max_length=1200)
    hypotheses: list[ModelHypothesis] = Field(default_factory=list, max_length=8)


def response_schema(
    patterns: list[str], evidence_ids: list[str], action_types: list[str]
) -> dict[str, Any]:
    """A JSON schema for constrained decoding. Enums keep a small model on known ids; the
    length caps keep its answer inside max_tokens."""
    evidence_items: dict[str, Any] = {"type": "string"}
    if evidence_ids:
        evidence_items["enum"] = evidence_ids
    return {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "maxLength": 120},
            "hypotheses": {
                "type": "array",
                "minItems": 1,
                "maxItems": 2,
                "items": {
                    "type": "object",
                    "properties": {
                        "pattern": {"type": "string", "enum": [*patterns, OTHER]},
                        "cause": {"type": "string", "maxLength": 100},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "evidence": {"type": "array", "maxItems": 2, "items": evidence_items},
                        "actions": {
                            "type": "array",
                            "maxItems": 1,
                            "items": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string", "enum": action_types},
                                    "target_kind": {"type": "string", "maxLength": 20},
                                    "target_name": {"type": "string", "maxLength": 50},
                                    "namespace": {"type": "string", "maxLength": 40},
                                },
                                "required": ["type", "target_kind", "target_name"],
                            },
                        },
                    },
                    "required": ["pattern", "cause", "confidence", "evidence", "actions"],
                },
            },
        },
        "required": ["summary", "hypotheses"],
    }


class OutputError(ValueError):
    """The model's text is not a valid verdict; the message is fit to send back to it."""


_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def _json_block(text: str) -> str:
    stripped = _FENCE.sub("", text.strip())
    start, end = stripped.find("{"), stripped.rfind("}")
    if start < 0 or end <= start:
        raise OutputError("no JSON object found in the answer")
    return stripped[start : end + 1]


def parse_verdict(text: str) -> ModelVerdict:
    """Lenient about wrapping (code fences, prose around the object, control characters in
    strings), strict about content."""
    try:
        data = json.loads(_json_block(text), strict=False)
    except json.JSONDecodeError as exc:
        raise OutputError(f"invalid JSON: {exc.msg} at position {exc.pos}") from exc
    if not isinstance(data, dict):
        raise OutputError("the answer must be one JSON object")
    try:
        return ModelVerdict.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise OutputError(f"schema violation at {where}: {first['msg']}") from exc
