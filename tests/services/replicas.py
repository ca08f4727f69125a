"""Several `firstline serve` (or `firstline worker`) processes on one PostgreSQL database,
and an Alertmanager-like sender that spreads deliveries over them.

Shared by tests/integration/scale/ and benchmarks/scale.py. Every replica is a real child
process with its own data directory; what they share is only the database named by
FIRSTLINE_STORE__URL.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from tests.services.alert_storm import PostResult
from tests.services.firstline_server import FirstlineServer, start_firstline
from tests.services.postgres import PostgresCluster


def new_database(cluster: PostgresCluster, prefix: str = "firstline") -> str:
    """A fresh, empty database on the cluster; its postgresql:// URL (store.url)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(cluster.dsn(), autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:{cluster.port}/{name}"


def query(url: str, sql: str, args: Sequence[object] = ()) -> list[dict[str, Any]]:
    """Rows of one read, each a dict, through a connection of its own."""
    with psycopg.connect(url, row_factory=dict_row, connect_timeout=10) as db:
        return list(db.execute(sql, args).fetchall())  # type: ignore[arg-type]


def start_replicas(
    workdir: Path,
    count: int,
    *,
    env: dict[str, str],
    name: str = "replica",
    timeout: float = 120.0,
) -> list[FirstlineServer]:
    """`count` `firstline serve` processes, each with workers and its own data directory,
    on whatever store `env` names (FIRSTLINE_STORE__URL for one shared PostgreSQL)."""
    # All at once, as a Deployment starts them: on an empty database they race to migrate
    # (a deadlock through LangGraph's CREATE INDEX CONCURRENTLY once hung every one of them;
    # test_replicas_start_together covers it).
    with ThreadPoolExecutor(max_workers=count) as pool:
        starting = [
            pool.submit(start_firstline, workdir, data_dir=workdir / f"{name}-{n}", env=env,
                        name=f"{name}-{n}", timeout=timeout)
            for n in range(count)
        ]  # fmt: skip
        wait(starting)
    replicas = [f.result() for f in starting if f.exception() is None]
    failed = [e for f in starting if (e := f.exception()) is not None]
    if failed:
        for replica in replicas:
            replica.stop()
        raise failed[0]
    return replicas


async def post_round_robin(
    urls: Sequence[str],
    bodies: Sequence[Any],
    *,
    headers: dict[str, str] | None = None,
    concurrency: int = 8,
    deadline_seconds: float = 120.0,
) -> PostResult:
    """POST every body to the replicas in turn, as a load balancer in front of them would
    for Alertmanager: delivery i goes to urls[i % n] first. A delivery that fails (refused
    or reset connection: its replica died; or a 5xx/429) is retried against the next
    replica, until one answers 2xx; only a 2xx counts as acknowledged. `errors` counts the
    failed tries (each one was retried)."""
    result = PostResult()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(bodies)):
        queue.put_nowait(index)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    stop_at = time.monotonic() + deadline_seconds
    async with httpx.AsyncClient(timeout=30, limits=limits, headers=headers) as client:

        async def deliver(index: int) -> None:
            tries = 0
            while time.monotonic() < stop_at:
                url = urls[(index + tries) % len(urls)]
                tries += 1
                started = time.perf_counter()
                try:
                    answer = await client.post(url, json=bodies[index])
                except httpx.HTTPError:
                    result.errors += 1
                    continue
                result.latencies.append(time.perf_counter() - started)
                result.statuses.append(answer.status_code)
                if 200 <= answer.status_code < 300:
                    result.acknowledged.append(index)
                    return
                if answer.status_code < 500 and answer.status_code != 429:
                    return  # refused for good: retrying elsewhere would not help
                result.errors += 1
                await asyncio.sleep(0.05)

        async def worker() -> None:
            while not queue.empty():
                await deliver(queue.get_nowait())

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - began
    return result


def wait_until(check: Any, what: str, timeout: float, every: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` (and the last
    value seen) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        seen = check()
        if seen:
            return seen
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {seen!r})")
