"""Ingest throughput: firstline serve vs a real Alertmanager, same alerts, same run.

    .venv/bin/python benchmarks/ingest.py [--alerts 20000] [--batch 100] [--concurrency 8]

Posts Alertmanager-format batches over loopback HTTP to `firstline serve`
(/webhooks/alertmanager: authenticated, persisted to SQLite before each 202) and the same
alerts to a real Alertmanager's /api/v2/alerts (Debian prometheus-alertmanager, in-memory).
Prints alerts/s for both, the ratio, p50/p99 request latency, and checks that firstline
stored every alert exactly once. Investigations run in the server meanwhile (one per group).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from rich.console import Console
from rich.table import Table
from tests.services.alert_storm import PostResult, post_all, storm_alerts, webhook_batches
from tests.services.firstline_server import start_firstline
from tests.services.process import Service
from tests.services.prometheus import start_alertmanager


def start_peer_alertmanager(workdir: Path) -> tuple[Service, str]:
    return start_alertmanager(
        workdir,
        "route:\n  receiver: none\n  group_by: [alertname, namespace, service]\n"
        "receivers:\n  - name: none\n",
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def for_alertmanager(batches: list[dict[str, Any]]) -> list[Any]:
    """/api/v2/alerts takes a bare list of alerts and computes fingerprints itself."""
    return [
        [{k: v for k, v in a.items() if k != "fingerprint"} for a in b["alerts"]] for b in batches
    ]


def _row(table: Table, name: str, alerts: int, runs: list[PostResult]) -> float:
    """Median alerts/s over rounds; latency percentiles over every request of every round."""
    rate = statistics.median(alerts / r.seconds for r in runs)
    latencies = [x for r in runs for x in r.latencies]
    table.add_row(
        name, f"{alerts:,} x {len(runs)}", f"{rate:,.0f}",
        f"{statistics.median(latencies) * 1000:.1f}",
        f"{_percentile(latencies, 0.99) * 1000:.1f}",
        f"{sum(r.errors + sum(1 for s in r.statuses if s >= 300) for r in runs)}",
    )  # fmt: skip
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    ours_runs: list[PostResult] = []
    theirs_runs: list[PostResult] = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        firstline = start_firstline(workdir)
        alertmanager, am_url = start_peer_alertmanager(workdir)
        try:
            with console.status("warming up both servers"):
                warm = webhook_batches(storm_alerts(200, 2, prefix="warm"), args.batch)
                asyncio.run(post_all(f"{firstline.url}/webhooks/alertmanager", warm,
                                     headers=firstline.webhook_headers))  # fmt: skip
                asyncio.run(post_all(f"{am_url}/api/v2/alerts", for_alertmanager(warm)))
            for round_ in range(args.rounds):
                batches = webhook_batches(
                    storm_alerts(args.alerts, args.groups, prefix=f"bench{round_}"), args.batch
                )
                # alternate who goes first, so neither always meets a warmer machine
                order = ["ours", "theirs"] if round_ % 2 == 0 else ["theirs", "ours"]
                for who in order:
                    with console.status(f"round {round_ + 1}/{args.rounds}: {who}"):
                        if who == "ours":
                            ours_runs.append(asyncio.run(post_all(
                                f"{firstline.url}/webhooks/alertmanager", batches,
                                headers=firstline.webhook_headers, concurrency=args.concurrency,
                            )))  # fmt: skip
                        else:
                            theirs_runs.append(asyncio.run(post_all(
                                f"{am_url}/api/v2/alerts", for_alertmanager(batches),
                                concurrency=args.concurrency,
                            )))  # fmt: skip
            with sqlite3.connect(firstline.data_dir / "incidents.sqlite") as db:
                stored, receipts = db.execute(
                    "SELECT count(*), sum(receipts) FROM alerts"
                    " WHERE json_extract(alert, '$.labels.pod') LIKE 'bench%'"
                ).fetchone()
            am_count = len(
                [a for a in httpx.get(f"{am_url}/api/v2/alerts", timeout=30).json()
                 if a["labels"].get("pod", "").startswith("bench")]
            )  # fmt: skip
        finally:
            firstline.stop()
            alertmanager.stop()
    expected = args.alerts * args.rounds
    table = Table(
        title=f"ingest: {args.alerts:,} alerts, batches of {args.batch}, {args.concurrency} connections"
    )
    for column in ("server", "alerts", "alerts/s", "p50 ms", "p99 ms", "failed requests"):
        table.add_column(column, justify="right" if column != "server" else "left")
    ours_rate = _row(table, "firstline serve (persisted)", args.alerts, ours_runs)
    theirs_rate = _row(table, "Alertmanager 0.25 (in memory)", args.alerts, theirs_runs)
    console.print(table)
    ratio = ours_rate / theirs_rate
    console.print(f"ratio firstline/Alertmanager: [bold]{ratio:.2f}[/] (target >= 0.5)")
    exact = stored == receipts == expected
    console.print(
        f"count check: firstline stored {stored:,} of {expected:,} alerts with {receipts:,} receipts"
        f" -> {'exactly once' if exact else 'MISMATCH'}; Alertmanager holds {am_count:,}"
    )
    console.print(
        f"sustained target >= 2,000 alerts/s: {'met' if ours_rate >= 2000 else 'NOT met'}"
    )
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
