"""Liveness while large deliveries are ingested: /healthz latency of `firstline serve`
while 5,000-alert deliveries arrive back to back.

    .venv/bin/python benchmarks/healthz_under_ingest.py [--deliveries 8] [--alerts 5000]

Posts `--deliveries` Alertmanager-format bodies of `--alerts` alerts each (every alert in a
new group, the costliest case) over loopback HTTP, two at a time, while a probe in a
process of its own (as a kubelet is) GETs /healthz every 20 ms. Prints the probe's p50/p99/max and the ingest rate, and exits 1 if
the p99 is above `--p99-ms` (100) or a delivery was not acknowledged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


PROBE = """
import sys, time, httpx
url, stop = sys.argv[1], sys.argv[2]
import os
with httpx.Client(timeout=30) as client:
    while not os.path.exists(stop):
        started = time.perf_counter()
        answer = client.get(url)
        took = time.perf_counter() - started
        if answer.status_code != 200:
            print("status", answer.status_code, flush=True)
        print(f"{took:.6f}", flush=True)
        time.sleep(0.02)
"""
"""The liveness probe, in a process of its own as a kubelet is: the benchmark's own work
(sending megabytes of JSON) must not be counted as the server's latency."""


async def deliver(server: FirstlineServer, bodies: list[bytes]) -> float:
    """Seconds to post every body, two at a time; every one must be acknowledged."""
    await asyncio.sleep(0.5)  # the probe's baseline before the first delivery
    began = time.perf_counter()
    result = await post_all(
        f"{server.url}/webhooks/alertmanager", bodies,
        headers={**server.webhook_headers, "Content-Type": "application/json"},
        concurrency=2,
    )  # fmt: skip
    if result.errors or set(result.statuses) != {202}:
        raise SystemExit(f"deliveries not all acknowledged: {result.statuses} {result.errors}")
    return time.perf_counter() - began


def measure(server: FirstlineServer, bodies: list[bytes], alerts: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        stop = Path(scratch) / "stop"
        prober = subprocess.Popen(
            [sys.executable, "-c", PROBE, f"{server.url}/healthz", str(stop)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            seconds = asyncio.run(deliver(server, bodies))
        finally:
            stop.touch()
            output, _ = prober.communicate(timeout=60)
    lines = output.split()
    if "status" in lines:
        raise SystemExit(f"/healthz did not answer 200: {output[-300:]}")
    probes = [float(x) for x in lines]
    return {
        "probes": len(probes),
        "p50_ms": percentile(probes, 0.5) * 1000,
        "p99_ms": percentile(probes, 0.99) * 1000,
        "max_ms": max(probes) * 1000,
        "alerts_per_s": alerts * len(bodies) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=8)
    parser.add_argument("--alerts", type=int, default=5_000)
    parser.add_argument("--p99-ms", type=float, default=100.0)
    args = parser.parse_args()
    # encoded before measuring: the sender's JSON work is not the server's latency
    bodies = [json.dumps(b).encode() for b in big_deliveries(args.deliveries, args.alerts)]
    with tempfile.TemporaryDirectory() as tmp:
        env = {"FIRSTLINE_SERVE__MAX_BODY_BYTES": str(64 * 1024 * 1024),
               "FIRSTLINE_SERVE__WORKERS": "1"}  # fmt: skip
        server = start_firstline(Path(tmp), env=env)
        try:
            numbers = measure(server, bodies, args.alerts)
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
