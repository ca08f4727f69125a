"""Parsing model text into a verdict: lenient about wrapping, strict about content."""

from __future__ import annotations

import pytest

from firstline.reasoning.llm.output import OutputError, parse_verdict, response_schema
from tests.unit.reasoning.fakes import hyp, verdict


def test_plain_json_parses() -> None:
    parsed = parse_verdict(verdict(hyp("oom_kill_loop", 0.8, ["logs"])))
    assert parsed.hypotheses[0].pattern == "oom_kill_loop"
    assert parsed.hypotheses[0].evidence == ["logs"]


def test_code_fence_and_prose_around_the_object_are_tolerated() -> None:
    text = "Sure! Here you go:\n```json\n" + verdict(hyp("x", 0.2)) + "\n```\nHope it helps."
    assert parse_verdict(text).hypotheses[0].pattern == "x"


def test_raw_control_characters_inside_strings_are_tolerated() -> None:
    text = '{"summary": "line one\nline two", "hypotheses": []}'
    assert parse_verdict(text).summary == "line one\nline two"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("I think it is a memory leak.", "no JSON object"),
        ('{"summary": "x", "hypotheses": [', "no JSON object"),
        ('{"summary": "x", "hypotheses": [}', "invalid JSON"),
        ('{"hypotheses": [{"pattern": "a", "confidence": 7}]}', "hypotheses.0.confidence"),
        ('{"hypotheses": [{"cause": "no pattern", "confidence": 0.5}]}', "hypotheses.0.pattern"),
    ],
)
def test_invalid_answers_get_a_message_fit_for_a_repair_prompt(text: str, complaint: str) -> None:
    with pytest.raises(OutputError, match=complaint):
        parse_verdict(text)


def test_schema_limits_patterns_and_evidence_to_known_ids() -> None:
    schema = response_schema(["oom_kill_loop"], ["logs", "pods"], ["restart"])
    item = schema["properties"]["hypotheses"]["items"]["properties"]
    assert item["pattern"]["enum"] == ["oom_kill_loop", "other"]
    assert item["evidence"]["items"]["enum"] == ["logs", "pods"]
    assert item["actions"]["items"]["properties"]["type"]["enum"] == ["restart"]
