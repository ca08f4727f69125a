"""Alertmanager-format alert storms and a concurrent HTTP poster, shared by the storm and
crash tests and by benchmarks/ingest.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from firstline.domain.alert import fingerprint_labels


def storm_alerts(count: int, groups: int, *, prefix: str = "storm") -> list[dict[str, Any]]:
    """`count` distinct alerts spread round-robin over `groups` groups (one service each)."""
    return [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate", "namespace": "shop", "severity": "warning",
                "service": f"{prefix}-svc-{i % groups:03d}", "pod": f"{prefix}-pod-{i:06d}",
            },
            "annotations": {"summary": f"errors on pod {i}"},
            "startsAt": "2026-11-26T21:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        }
        for i in range(count)
    ]  # fmt: skip


def webhook_batches(alerts: Sequence[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """Alertmanager webhook v4 bodies of at most `size` alerts, one group per body and each
    alert with its fingerprint, as Alertmanager sends them."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        by_group.setdefault(alert["labels"]["service"], []).append(
            {**alert, "fingerprint": fingerprint_labels(alert["labels"])}
        )
    bodies = []
    for group in by_group.values():
        for i in range(0, len(group), size):
            chunk = group[i : i + size]
            bodies.append(
                {"version": "4", "status": "firing", "receiver": "firstline",
                 "groupKey": "{}:{service=\"" + chunk[0]["labels"]["service"] + "\"}",
                 "groupLabels": {"service": chunk[0]["labels"]["service"]},
                 "commonLabels": {}, "commonAnnotations": {},
                 "externalURL": "http://alertmanager:9093", "alerts": chunk}
            )  # fmt: skip
    # interleave groups, as many groups fire at once in a storm
    order = sorted(range(len(bodies)), key=lambda i: (i % 7, i))
    return [bodies[i] for i in order]


@dataclass
class PostResult:
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)
    """Indexes of bodies answered 2xx."""
    errors: int = 0
    seconds: float = 0.0


async def post_all(
    url: str,
    bodies: Sequence[Any],
    *,
    headers: dict[str, str] | None = None,
    concurrency: int = 8,
    stop_after_errors: int | None = None,
) -> PostResult:
    """POST every body with `concurrency` connections; connection errors are counted (the
    crash test kills the server mid-way), never raised."""
    result = PostResult()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(bodies)):
        queue.put_nowait(index)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits, headers=headers) as client:

        async def worker() -> None:
            while not queue.empty():
                if stop_after_errors is not None and result.errors >= stop_after_errors:
                    return
                index = queue.get_nowait()
                started = time.perf_counter()
                try:
                    body = bodies[index]
                    answer = await (  # bytes: already encoded (and Content-Type given)
                        client.post(url, content=body)
                        if isinstance(body, bytes)
                        else client.post(url, json=body)
                    )
                except httpx.HTTPError:
                    result.errors += 1
                    continue
                result.latencies.append(time.perf_counter() - started)
                result.statuses.append(answer.status_code)
                if 200 <= answer.status_code < 300:
                    result.acknowledged.append(index)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - began
    return result
