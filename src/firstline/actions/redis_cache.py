"""clear_cache on Redis: delete the keys matching a pattern with SCAN + UNLINK in batches.

SCAN walks the keyspace in small steps and UNLINK frees memory in the background, so neither
blocks the server the way KEYS or DEL on many keys would. A full flush (FLUSHDB ASYNC) is
sent only when the settings allow it *and* the action asks for it; FLUSHALL never is.

Parameters: `pattern` (a Redis glob, required unless flushing), `max_keys` (optional, lowers
the settings' cap), `flush` (optional, true for FLUSHDB). Reconcile: applied when no key
matches the pattern any more (a busy cache may refill; then running again is right).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from firstline.actions.base import ExecutionOutcome, Preflight, ReconcileResult, Reconciliation
from firstline.actions.settings import RedisActionSettings
from firstline.actions.targets import connection_for, unknown_target
from firstline.domain.action import ActionType, RemediationAction

log = structlog.get_logger(__name__)

TARGET_KINDS = ("cache", "redis")
_GLOB = set("*?[]\\")


def matches_everything(pattern: str) -> bool:
    """No literal character outside a [...] class: the pattern matches (nearly) any key."""
    depth, escaped = 0, False
    for char in pattern:
        if escaped:
            if depth == 0:
                return False
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif depth == 0 and char not in _GLOB:
            return False
    return True


@dataclass
class _Plan:
    pattern: str
    flush: bool
    cap: int
    problems: list[str] = field(default_factory=list)


@dataclass
class _Count:
    total: int
    sample: list[str]
    over_cap: bool


class RedisCacheExecutor:
    """See docs/remediation/data-and-scripts.md."""

    name = "redis"

    def __init__(self, settings: RedisActionSettings) -> None:
        self.settings = settings

    def supports(self, action_type: ActionType) -> bool:
        return action_type is ActionType.CLEAR_CACHE

    # -- planning ---------------------------------------------------------------------------

    def _plan(self, action: RemediationAction) -> _Plan:
        params = action.parameters
        raw_pattern = params.get("pattern", "")
        pattern = raw_pattern if isinstance(raw_pattern, str) else ""
        flush = params.get("flush") is True
        cap = self.settings.max_keys
        plan = _Plan(pattern=pattern, flush=flush, cap=cap)
        if action.target.kind.lower() not in TARGET_KINDS:
            plan.problems.append(f"clear_cache targets a cache, not a {action.target.kind}")
        if connection_for(action.target, self.settings.targets) is None:
            plan.problems.append(unknown_target(action.target, "Redis"))
        if not isinstance(raw_pattern, str):
            plan.problems.append("parameter pattern must be a string")
        wanted_cap = params.get("max_keys")
        if wanted_cap is not None:
            if isinstance(wanted_cap, bool) or not isinstance(wanted_cap, int) or wanted_cap < 1:
                plan.problems.append("parameter max_keys must be a positive integer")
            else:
                plan.cap = min(cap, wanted_cap)  # an action may lower the cap, never raise it
        if "flush" in params and not isinstance(params["flush"], bool):
            plan.problems.append("parameter flush must be true or false")
        if flush and not self.settings.allow_flush:
            plan.problems.append(
                "a full flush is refused: settings actions.redis.allow_flush is false"
            )
        elif not flush and matches_everything(pattern) and not self.settings.allow_flush:
            plan.problems.append(
                f"pattern {pattern!r} matches every key; refused unless actions.redis.allow_flush"
            )
        return plan

    def _client(self, action: RemediationAction) -> Redis:
        url = connection_for(action.target, self.settings.targets)
        assert url is not None  # _plan refused unknown targets
        timeout = self.settings.timeout_seconds
        return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)

    async def _keys(self, client: Redis, pattern: str) -> AsyncIterator[str]:
        async for key in client.scan_iter(match=pattern, count=self.settings.scan_count):
            yield key.decode(errors="backslashreplace") if isinstance(key, bytes) else str(key)

    async def _count(self, client: Redis, plan: _Plan) -> _Count:
        """Counts up to one past the cap, so an oversized match never scans the whole space."""
        if plan.flush:
            total = int(await client.dbsize())
            return _Count(total, [], total > plan.cap)
        total, sample = 0, list[str]()
        async for key in self._keys(client, plan.pattern):
            total += 1
            if len(sample) < self.settings.sample_size:
                sample.append(key)
            if total > plan.cap:
                return _Count(total, sample, True)
        return _Count(total, sample, False)

    def _cap_problem(self, plan: _Plan, count: _Count) -> str:
        return (
            f"more than {plan.cap} keys match {plan.pattern or '(flush)'}: above the max_keys "
            "cap (blast radius); narrow the pattern or raise the cap"
        )

    # -- the port ---------------------------------------------------------------------------

    async def preflight(self, action: RemediationAction) -> Preflight:
        plan = self._plan(action)
        if plan.problems:
            return Preflight(ok=False, problems=plan.problems)
        try:
            async with self._client(action) as client:
                count = await self._count(client, plan)
        except (RedisError, ValueError) as exc:  # ValueError: a malformed URL
            return Preflight(ok=False, problems=[f"Redis {action.target}: {exc}"])
        if count.over_cap:
            return Preflight(ok=False, problems=[self._cap_problem(plan, count)])
        return Preflight(ok=True, no_change=count.total == 0)

    async def dry_run(self, action: RemediationAction) -> str:
        plan = self._plan(action)
        if plan.problems:
            return f"would not {action.describe()}: {'; '.join(plan.problems)}"
        try:
            async with self._client(action) as client:
                count = await self._count(client, plan)
        except (RedisError, ValueError) as exc:  # ValueError: a malformed URL
            return f"would not {action.describe()}: Redis {action.target}: {exc}"
        if count.over_cap:
            return f"would not {action.describe()}: {self._cap_problem(plan, count)}"
        if plan.flush:
            return f"would FLUSHDB ASYNC on {action.target}: {count.total} keys"
        lines = [
            f"would UNLINK {count.total} keys matching {plan.pattern!r} on {action.target}"
            f" (SCAN COUNT {self.settings.scan_count}, batches of {self.settings.unlink_batch})"
        ]
        lines += [f"  {key}" for key in count.sample]
        if count.total > len(count.sample):
            lines.append(f"  ... and {count.total - len(count.sample)} more")
        return "\n".join(lines)

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        plan = self._plan(action)
        if plan.problems:
            return ExecutionOutcome(ok=False, detail="; ".join(plan.problems))
        try:
            async with self._client(action) as client:
                # counted again here: the cache may have grown since preflight
                count = await self._count(client, plan)
                if count.over_cap:
                    return ExecutionOutcome(ok=False, detail=self._cap_problem(plan, count))
                if plan.flush:
                    await client.flushdb(asynchronous=True)
                    removed, sample = count.total, count.sample
                else:
                    removed, sample = await self._unlink(client, plan)
        except (RedisError, ValueError) as exc:  # ValueError: a malformed URL
            return ExecutionOutcome(ok=False, detail=f"Redis {action.target}: {exc}")
        log.info("redis.cleared", target=str(action.target), pattern=plan.pattern, keys=removed)
        what = "flushed" if plan.flush else f"matching {plan.pattern!r}"
        return ExecutionOutcome(
            ok=True,
            detail=f"removed {removed} keys {what} from {action.target}",
            report={
                "pattern": plan.pattern,
                "flush": plan.flush,
                "keys_removed": removed,
                "sample": sample,
            },
        )

    async def _unlink(self, client: Redis, plan: _Plan) -> tuple[int, list[str]]:
        removed, sample, batch = 0, list[str](), list[str]()
        async for key in self._keys(client, plan.pattern):
            batch.append(key)
            if len(sample) < self.settings.sample_size:
                sample.append(key)
            if len(batch) >= self.settings.unlink_batch:
                removed += int(await client.unlink(*batch))
                batch = []
        if batch:
            removed += int(await client.unlink(*batch))
        return removed, sample

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        plan = self._plan(action)
        if plan.problems:
            return ReconcileResult(state=Reconciliation.UNKNOWN, detail="; ".join(plan.problems))
        try:
            async with self._client(action) as client:
                if plan.flush:
                    left = int(await client.dbsize())
                else:
                    left = 0
                    async for _ in self._keys(client, plan.pattern):
                        left = 1
                        break
        except (RedisError, ValueError) as exc:  # ValueError: a malformed URL
            return ReconcileResult(state=Reconciliation.UNKNOWN, detail=f"Redis: {exc}")
        if left:
            return ReconcileResult(
                state=Reconciliation.NOT_APPLIED,
                detail=f"keys matching {plan.pattern or '(flush)'} remain on {action.target}",
            )
        return ReconcileResult(
            state=Reconciliation.APPLIED,
            detail=f"no key matches {plan.pattern or '(flush)'} on {action.target}",
        )
