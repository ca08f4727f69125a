"""Liveness while large deliveries are ingested: /healthz latency of `firstline serve`
while 5,000-alert deliveries arrive back to back.

    .venv/bin/python benchmarks/healthz_under_ingest.py [--deliveries 8] [--alerts 5000]

Posts `--deliveries` Alertmanager-format bodies of `--alerts` alerts each (every alert in a
new group, the costliest case) over loopback HTTP, two at a time, while a probe GETs
/healthz every 20 ms. Prints the probe's p50/p99/max and the ingest rate, and exits 1 if
the p99 is above `--p99-ms` (100) or a delivery was not acknowledged.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.services.alert_storm import post_all, storm_alerts, webhook_batches
from tests.services.firstline_server import FirstlineServer, start_firstline


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def big_deliveries(count: int, alerts: int) -> list[dict[str, Any]]:
    """`count` bodies of `alerts` alerts, each alert in a group of its own."""
    bodies = []
    for n in range(count):
        body = webhook_batches(storm_alerts(alerts, 1, prefix=f"bench{n}"), alerts)[0]
        body["alerts"] = [
            {**a, "labels": {**a["labels"], "service": f"bench{n}-{i}"}}
            for i, a in enumerate(body["alerts"])
        ]
        bodies.append(body)
    return bodies


async def measure(server: FirstlineServer, bodies: list[dict[str, Any]]) -> dict[str, float]:
    probes: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while not done.is_set():
                started = time.perf_counter()
                answer = await client.get(f"{server.url}/healthz")
                assert answer.status_code == 200
                probes.append(time.perf_counter() - started)
                await asyncio.sleep(0.02)

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.5)  # a baseline before the first delivery
    began = time.perf_counter()
    result = await post_all(
        f"{server.url}/webhooks/alertmanager", bodies, headers=server.webhook_headers,
        concurrency=2,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    done.set()
    await prober
    if result.errors or set(result.statuses) != {202}:
        raise SystemExit(f"deliveries not all acknowledged: {result.statuses} {result.errors}")
    return {
        "probes": len(probes),
        "p50_ms": percentile(probes, 0.5) * 1000,
        "p99_ms": percentile(probes, 0.99) * 1000,
        "max_ms": max(probes) * 1000,
        "alerts_per_s": sum(len(b["alerts"]) for b in bodies) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=8)
    parser.add_argument("--alerts", type=int, default=5_000)
    parser.add_argument("--p99-ms", type=float, default=100.0)
    args = parser.parse_args()
    bodies = big_deliveries(args.deliveries, args.alerts)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"FIRSTLINE_SERVE__MAX_BODY_BYTES": str(64 * 1024 * 1024),
               "FIRSTLINE_SERVE__WORKERS": "1"}  # fmt: skip
        server = start_firstline(Path(tmp), env=env)
        try:
            numbers = asyncio.run(measure(server, bodies))
        finally:
            server.stop()
    print(
        f"/healthz during {args.deliveries} deliveries of {args.alerts:,} alerts:"
        f" {numbers['probes']:.0f} probes, p50 {numbers['p50_ms']:.1f} ms,"
        f" p99 {numbers['p99_ms']:.1f} ms, max {numbers['max_ms']:.1f} ms;"
        f" ingest {numbers['alerts_per_s']:,.0f} alerts/s"
    )
    if numbers["p99_ms"] > args.p99_ms:
        raise SystemExit(f"p99 {numbers['p99_ms']:.1f} ms is above {args.p99_ms} ms")


if __name__ == "__main__":
    main()
