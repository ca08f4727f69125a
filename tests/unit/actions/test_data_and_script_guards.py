"""The pure guard rails of the Redis, PostgreSQL and script executors, and their settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from firstline.actions.catalog import make_action
from firstline.actions.postgres_sessions import parse_criteria
from firstline.actions.redis_cache import matches_everything
from firstline.actions.scripts import ScriptRefused, script_arguments
from firstline.actions.settings import PostgresActionSettings, ScriptActionSettings
from firstline.actions.targets import connection_for
from firstline.domain.action import ActionType, ParamValue, Target


@pytest.mark.parametrize("pattern", ["", "*", "**", "?*", "[a-z]*", "[*]*"])
def test_match_everything_patterns(pattern: str) -> None:
    assert matches_everything(pattern)


# an escaped glob character is a literal one
@pytest.mark.parametrize("pattern", ["product:*", "*:page", "s?ssion:*", "a", "[ab]x*", "\\[*"])
def test_patterns_with_a_literal_are_narrow(pattern: str) -> None:
    assert not matches_everything(pattern)


def test_namespaced_connection_wins_and_unknown_is_none() -> None:
    mapping = {"shop/cache": SecretStr("redis://a"), "cache": SecretStr("redis://b")}
    assert (
        connection_for(Target(kind="cache", name="cache", namespace="shop"), mapping) == "redis://a"
    )
    assert connection_for(Target(kind="cache", name="cache"), mapping) == "redis://b"
    assert connection_for(Target(kind="cache", name="other", namespace="shop"), mapping) is None


def test_script_arguments_are_sorted_words() -> None:
    target = Target(kind="queue", name="orders")
    args = script_arguments({"script": "x", "b": 2.5, "a": False}, target)
    assert args == ["--target=queue//orders", "--a=false", "--b=2.5"]
    with pytest.raises(ScriptRefused, match="control characters"):
        script_arguments({"a": "x\x00y"}, target)
    with pytest.raises(ScriptRefused, match="longer than"):
        script_arguments({"a": "x" * 2000}, target)


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ({"idle_in_transaction_seconds": 10}, "below the floor of 30s"),
        ({"idle_in_transaction_seconds": True}, "non-negative number"),
        ({"application_name": "x", "max_sessions": -1}, "non-negative integer"),
        ({"application_name": "x"}, "give idle_in_transaction_seconds"),
    ],
)
def test_postgres_criteria_refusals(parameters: dict[str, ParamValue], problem: str) -> None:
    action = make_action(
        ActionType.TERMINATE_DB_CONNECTIONS, Target(kind="database", name="d"), rationale="",
        parameters=parameters,
    )  # fmt: skip
    criteria, problems = parse_criteria(action, PostgresActionSettings())
    assert criteria is None and any(problem in p for p in problems)


def test_postgres_criteria_describe_both_selectors() -> None:
    action = make_action(
        ActionType.TERMINATE_DB_CONNECTIONS, Target(kind="database", name="d"), rationale="",
        parameters={"idle_in_transaction_seconds": 60, "application_name": "web", "max_sessions": 5},
    )  # fmt: skip
    criteria, _ = parse_criteria(action, PostgresActionSettings())
    assert criteria is not None
    assert criteria.describe() == (
        "idle in transaction > 60s or beyond the newest 5 sessions of application 'web'"
    )


def test_script_settings_guard_the_environment_and_directory() -> None:
    with pytest.raises(ValidationError, match="never passed to scripts"):
        ScriptActionSettings(env_allowlist=("FIRSTLINE_SLACK__TOKEN",))
    with pytest.raises(ValidationError, match="not an environment variable name"):
        ScriptActionSettings(env_allowlist=("A=B",))
    with pytest.raises(ValidationError, match="directory is required"):
        ScriptActionSettings(enabled=True)
    assert ScriptActionSettings(enabled=True, directory=Path("/srv/runbooks")).timeout_seconds == 60
