"""clear_cache against a real redis-server: seed keys, act, read the keyspace back.

`INFO commandstats` is read after each action, so the tests also see which commands the
executor actually sent (never FLUSHALL; FLUSHDB only when allowed and asked for).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from firstline.actions.base import Reconciliation
from firstline.actions.catalog import make_action
from firstline.actions.redis_cache import RedisCacheExecutor
from firstline.actions.settings import RedisActionSettings
from firstline.domain.action import ActionType, ParamValue, RemediationAction, Target
from tests.integration.actions.policy_deny import assert_refused_by_rule, run_denied

pytestmark = pytest.mark.integration

CACHE = Target(kind="cache", name="sessions", namespace="shop")


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    await client.flushall()  # the test's own setup, not the executor's
    await client.config_resetstat()
    # 300 stale product pages, 40 session keys that must survive, one unrelated counter
    await client.mset({f"product:{n}:page": "x" for n in range(300)})
    await client.mset({f"session:{n}": "s" for n in range(40)})
    await client.set("visits", 1)
    yield client
    await client.aclose()


def executor(redis_url: str, **overrides: Any) -> RedisCacheExecutor:
    settings = RedisActionSettings(
        enabled=True,
        targets={"shop/sessions": SecretStr(redis_url)},
        scan_count=50,
        unlink_batch=64,
        **overrides,
    )
    return RedisCacheExecutor(settings)


def clear(target: Target = CACHE, **parameters: ParamValue) -> RemediationAction:
    return make_action(
        ActionType.CLEAR_CACHE, target, rationale="stale pages", parameters=parameters
    )


async def commands_sent(client: Redis) -> set[str]:
    stats = await client.info("commandstats")
    return {name.removeprefix("cmdstat_") for name in stats}


async def test_deletes_exactly_the_matching_keys_and_reports_them(
    redis: Redis, redis_url: str
) -> None:
    ex = executor(redis_url)
    action = clear(pattern="product:*:page")
    checked = await ex.preflight(action)
    assert checked.ok and not checked.no_change
    outcome = await ex.execute(action, "key-1")
    assert outcome.ok, outcome.detail
    assert outcome.report["keys_removed"] == 300
    sample = outcome.report["sample"]
    assert isinstance(sample, list) and len(sample) == 20
    assert all(key.startswith("product:") for key in sample)
    sent = await commands_sent(redis)  # read before this test's own checks add commands
    assert "unlink" in sent and "scan" in sent
    assert not sent & {"flushall", "flushdb", "del", "keys"}
    # batches of 64: 300 keys need at least 5 UNLINK calls
    stats = await redis.info("commandstats")
    assert stats["cmdstat_unlink"]["calls"] >= 5
    assert await redis.dbsize() == 41
    assert len(await redis.keys("session:*")) == 40


async def test_dry_run_counts_and_samples_without_deleting(redis: Redis, redis_url: str) -> None:
    text = await executor(redis_url).dry_run(clear(pattern="session:*"))
    assert text.startswith("would UNLINK 40 keys matching 'session:*'")
    assert "... and 20 more" in text
    assert await redis.dbsize() == 341
    assert "unlink" not in await commands_sent(redis)


@pytest.mark.parametrize(
    ("parameters", "reason"),
    [
        ({"flush": True}, "allow_flush is false"),
        ({"pattern": "*"}, "matches every key"),
        ({"pattern": ""}, "matches every key"),
        ({"pattern": "[a-z]*"}, "matches every key"),
        ({"pattern": "product:*", "max_keys": 100}, "above the max_keys cap"),
    ],
)
async def test_refusals_change_nothing_and_name_the_reason(
    redis: Redis, redis_url: str, parameters: dict[str, ParamValue], reason: str
) -> None:
    ex = executor(redis_url)
    action = clear(**parameters)
    checked = await ex.preflight(action)
    assert not checked.ok
    assert reason in "; ".join(checked.problems)
    outcome = await ex.execute(action, "key-refused")  # even if called anyway
    assert not outcome.ok and reason in outcome.detail
    assert await redis.dbsize() == 341
    assert not await commands_sent(redis) & {"unlink", "flushall", "flushdb"}


async def test_unknown_target_is_refused_before_any_connection(redis_url: str) -> None:
    elsewhere = Target(kind="cache", name="sessions", namespace="billing")
    checked = await executor(redis_url).preflight(clear(elsewhere, pattern="session:*"))
    assert not checked.ok
    assert "not a configured Redis target" in checked.problems[0]


async def test_flush_only_when_allowed_and_asked_and_never_flushall(
    redis: Redis, redis_url: str
) -> None:
    ex = executor(redis_url, allow_flush=True, max_keys=1000)
    outcome = await ex.execute(clear(flush=True), "key-flush")
    assert outcome.ok and outcome.report["keys_removed"] == 341
    assert await redis.dbsize() == 0
    sent = await commands_sent(redis)
    assert "flushdb" in sent and "flushall" not in sent


async def test_no_matching_key_is_no_change(redis: Redis, redis_url: str) -> None:
    checked = await executor(redis_url).preflight(clear(pattern="nothing:*"))
    assert checked.ok and checked.no_change


async def test_reconcile_after_a_crash(redis: Redis, redis_url: str) -> None:
    """A fresh executor (as after a restart) reads the keyspace, not any memory of the run."""
    action = clear(pattern="product:*:page")
    assert (await executor(redis_url).reconcile(action, "k")).state is Reconciliation.NOT_APPLIED
    # the crashed run got through some batches only
    await redis.unlink(*[f"product:{n}:page" for n in range(128)])
    verdict = await executor(redis_url).reconcile(action, "k")
    assert verdict.state is Reconciliation.NOT_APPLIED and "remain" in verdict.detail
    rerun = await executor(redis_url).execute(action, "k")
    assert rerun.ok and rerun.report["keys_removed"] == 172
    verdict = await executor(redis_url).reconcile(action, "k")
    assert verdict.state is Reconciliation.APPLIED
    assert len(await redis.keys("session:*")) == 40


async def test_a_policy_denial_changes_nothing_and_names_the_rule(
    redis: Redis, redis_url: str, tmp_path: Path
) -> None:
    before = await redis.dbsize()
    result, ctx = await run_denied(tmp_path, executor(redis_url), clear(pattern="product:*"))
    assert_refused_by_rule(result, ctx)
    assert await redis.dbsize() == before == 341
    assert not {"unlink", "scan", "del", "flushdb", "flushall"} & await commands_sent(redis)
