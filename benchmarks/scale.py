"""Replicas: alerts/s and investigations/s for 1 and 3 `firstline serve` replicas on one
PostgreSQL, the split shape (`serve --no-workers` taking the alerts, one `firstline worker`
investigating), `firstline serve` alone on SQLite, and a real Alertmanager as the ingest
peer, all in one run.

    .venv/bin/python benchmarks/scale.py [--alerts 20000] [--groups 300] [--rounds 3]
                                         [--workers 2] [--replicas 3]

Each round posts a new storm (`--alerts` alerts in `--groups` groups, Alertmanager webhook
bodies of `--batch` alerts, one group per body) to every setup in turn (the order rotates
per round): spread round-robin over the replicas for firstline, as a load balancer in front
of them would, and as a bare list to Alertmanager's /api/v2/alerts.

- alerts/s: alerts over the time until the last delivery was acknowledged (persisted
  before the 2xx for firstline; in memory for Alertmanager).
- investigations/s: groups over the time from the first alert posted to the last of the
  round's incidents reaching a decision (its queue row done). Every group is a new
  incident and no evidence backend is configured, so each run is the whole graph ending
  in an escalation; with many groups the workers are the bottleneck. Every replica runs
  `--workers` investigations at once (serve.workers), the same for each.
- CPU: seconds of CPU each process used during the round (user + system, from /proc), so a
  machine too small for the replicas shows as such instead of as a scaling result.

Medians over rounds. Exit 1 if any firstline setup did not store every alert exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ingest import for_alertmanager, start_peer_alertmanager
from rich.console import Console
from rich.table import Table
from tests.services.alert_storm import post_all, storm_alerts, webhook_batches
from tests.services.firstline_server import FirstlineServer, start_firstline
from tests.services.postgres import PostgresCluster
from tests.services.process import free_port
from tests.services.replicas import new_database, post_round_robin, query, start_replicas

TICK = os.sysconf("SC_CLK_TCK")
FINAL = ("done", "paused", "self_resolved")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children_of(pid: int) -> list[int]:
    """Every process whose parent is `pid` (PostgreSQL's backends under the postmaster)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


@dataclass
class Setup:
    name: str
    servers: list[FirstlineServer]
    settled: Callable[[], int]
    """Incidents whose queue row is final, over the whole store."""
    stored: Callable[[str], tuple[int, int]]
    """(alerts, receipts) stored with pods of this prefix."""
    helpers: list[FirstlineServer] = field(default_factory=list)
    """Processes that take no deliveries but work (the split shape's `firstline worker`)."""
    ingest: list[float] = field(default_factory=list)
    investigations: list[float] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)
    exact: bool = True


def postgres_setup(
    name: str, url: str, servers: list[FirstlineServer], helpers: Sequence[FirstlineServer] = ()
) -> Setup:
    final = ", ".join(f"'{s}'" for s in FINAL)
    return Setup(
        name,
        servers,
        lambda: int(
            query(url, f"SELECT count(*) AS n FROM work_queue WHERE state IN ({final})")[0]["n"]
        ),
        lambda prefix: _pg_stored(url, prefix),
        list(helpers),
    )


def _pg_stored(url: str, prefix: str) -> tuple[int, int]:
    (row,) = query(
        url,
        "SELECT count(*) AS n, coalesce(sum(receipts), 0) AS r FROM alerts"
        " WHERE (alert::json -> 'labels' ->> 'pod') LIKE %s",
        (f"{prefix}%",),
    )
    return int(row["n"]), int(row["r"])


def sqlite_setup(name: str, server: FirstlineServer) -> Setup:
    path = server.data_dir / "incidents.sqlite"

    def settled() -> int:
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            marks = ", ".join("?" for _ in FINAL)
            sql = f"SELECT count(*) FROM work_queue WHERE state IN ({marks})"
            return int(db.execute(sql, FINAL).fetchone()[0])

    def stored(prefix: str) -> tuple[int, int]:
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            n, r = db.execute(
                "SELECT count(*), coalesce(sum(receipts), 0) FROM alerts"
                " WHERE json_extract(alert, '$.labels.pod') LIKE ?",
                (f"{prefix}%",),
            ).fetchone()
        return int(n), int(r)

    return Setup(name, [server], settled, stored)


def run_firstline_round(
    setup: Setup, alerts: int, groups: int, batch: int, concurrency: int, prefix: str,
    postmaster: int | None, timeout: float,
) -> None:  # fmt: skip
    bodies = webhook_batches(storm_alerts(alerts, groups, prefix=prefix), batch)
    before = setup.settled()
    pids = {
        f"{s.service.name}": s.service.process.pid
        for s in [*setup.servers, *setup.helpers]
        if s.service.process
    }
    pg_pids = [postmaster, *children_of(postmaster)] if postmaster else []
    cpu_before = {n: cpu_seconds(p) for n, p in pids.items()}
    pg_before = {p: cpu_seconds(p) for p in pg_pids}
    began = time.perf_counter()
    result = asyncio.run(
        post_round_robin(
            [f"{s.url}/webhooks/alertmanager" for s in setup.servers], bodies,
            headers=setup.servers[0].webhook_headers, concurrency=concurrency,
        )
    )  # fmt: skip
    setup.ingest.append(alerts / result.seconds)
    deadline = time.monotonic() + timeout
    while setup.settled() < before + groups:
        if time.monotonic() > deadline:
            raise SystemExit(f"{setup.name}: investigations did not finish in {timeout:.0f}s")
        time.sleep(0.05)
    elapsed = time.perf_counter() - began
    setup.investigations.append(groups / elapsed)
    used = {n: cpu_seconds(p) - cpu_before[n] for n, p in pids.items()}
    if pg_pids:  # backends that came and went in between are missed: a lower bound
        now_pg = [postmaster, *children_of(postmaster)] if postmaster else []
        used["postgres"] = sum(cpu_seconds(p) - pg_before.get(p, 0.0) for p in now_pg)
    used["wall"] = elapsed
    setup.cpu.append(used)
    stored, receipts = setup.stored(prefix)
    setup.exact = (
        setup.exact and stored == receipts == alerts and len(result.acknowledged) == len(bodies)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="serve.workers per replica")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600, help="per round and setup")
    args = parser.parse_args()
    console = Console(width=200)
    env = {"FIRSTLINE_SERVE__WORKERS": str(args.workers), "FIRSTLINE_NOTIFY__CONSOLE": "false"}
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack:
        workdir = Path(scratch)
        cluster = PostgresCluster().start()
        stack.callback(cluster.stop)
        assert cluster.service is not None and cluster.service.process is not None
        postmaster = cluster.service.process.pid
        setups: list[Setup] = []
        with console.status("starting PostgreSQL, the replicas, SQLite and Alertmanager"):
            for count in (1, args.replicas):
                url = new_database(cluster)
                servers = start_replicas(
                    workdir / f"pg{count}", count, env={**env, "FIRSTLINE_STORE__URL": url},
                    name=f"pg{count}",
                )  # fmt: skip
                for server in servers:
                    stack.callback(server.stop)
                word = "replica" if count == 1 else "replicas"
                setups.append(
                    postgres_setup(f"firstline, {count} {word}, PostgreSQL", url, servers)
                )
            url = new_database(cluster)  # intake and investigation apart, as deploy/ ships
            split_env = {**env, "FIRSTLINE_STORE__URL": url}
            intake = start_firstline(workdir / "split", data_dir=workdir / "split-serve",
                                     env=split_env, name="serve", command=("serve", "--no-workers"))  # fmt: skip
            stack.callback(intake.stop)
            port = free_port()
            worker = start_firstline(workdir / "split", data_dir=workdir / "split-worker",
                                     env=split_env, name="worker", port=port,
                                     command=("worker", "--port", str(port)))  # fmt: skip
            stack.callback(worker.stop)
            setups.append(postgres_setup(
                "firstline, serve --no-workers + 1 worker, PostgreSQL", url, [intake], [worker]
            ))  # fmt: skip
            sqlite_server = start_firstline(workdir / "sqlite", env=env, name="sqlite")
            stack.callback(sqlite_server.stop)
            setups.append(sqlite_setup("firstline, 1 process, SQLite", sqlite_server))
            alertmanager, am_url = start_peer_alertmanager(workdir)
            stack.callback(alertmanager.stop)
        with console.status("warming up"):
            for setup in setups:
                run_firstline_round(setup, 200, 2, args.batch, args.concurrency, "warm", None,
                                    args.timeout)  # fmt: skip
                setup.ingest.clear()
                setup.investigations.clear()
                setup.cpu.clear()
            warm = webhook_batches(storm_alerts(200, 2, prefix="warm"), args.batch)
            asyncio.run(post_all(f"{am_url}/api/v2/alerts", for_alertmanager(warm)))
        am_rates: list[float] = []
        names = [*range(len(setups)), "am"]
        for round_ in range(args.rounds):
            prefix = f"scale{round_}"
            shift = round_ % len(names)
            for who in names[shift:] + names[:shift]:  # rotate who meets a warmer machine
                label = setups[who].name if isinstance(who, int) else "Alertmanager"
                with console.status(f"round {round_ + 1}/{args.rounds}: {label}"):
                    if isinstance(who, int):
                        run_firstline_round(
                            setups[who], args.alerts, args.groups, args.batch, args.concurrency,
                            prefix, postmaster if who < 3 else None, args.timeout,
                        )  # fmt: skip
                    else:
                        bodies = webhook_batches(
                            storm_alerts(args.alerts, args.groups, prefix=prefix), args.batch
                        )
                        result = asyncio.run(post_all(
                            f"{am_url}/api/v2/alerts", for_alertmanager(bodies),
                            concurrency=args.concurrency,
                        ))  # fmt: skip
                        am_rates.append(args.alerts / result.seconds)
    print_report(console, args, setups, statistics.median(am_rates))
    return 0 if all(s.exact for s in setups) else 1


def print_report(
    console: Console, args: argparse.Namespace, setups: list[Setup], am_rate: float
) -> None:
    table = Table(
        title=(
            f"scale: {args.alerts:,} alerts in {args.groups} groups per round, batches of"
            f" {args.batch}, {args.concurrency} connections, {args.workers} workers per"
            f" replica, median of {args.rounds} round(s), {os.cpu_count()} cores"
        )
    )
    for column in ("setup", "alerts/s", "vs Alertmanager", "investigations/s", "CPU s per round"):
        table.add_column(
            column, justify="left" if column in ("setup", "CPU s per round") else "right"
        )
    for setup in setups:
        rate = statistics.median(setup.ingest)
        table.add_row(
            setup.name, f"{rate:,.0f}", f"{rate / am_rate:.2f}",
            f"{statistics.median(setup.investigations):.1f}", _cpu(setup.cpu),
        )  # fmt: skip
    table.add_row("Alertmanager 0.25 (in memory, the peer)", f"{am_rate:,.0f}", "1.00", "-", "-")
    console.print(table)
    one, many = (statistics.median(s.investigations) for s in setups[:2])
    pg_ratio = statistics.median(setups[0].ingest) / am_rate
    split_ratio = statistics.median(setups[2].ingest) / am_rate
    console.print(
        f"investigations, {args.replicas} replicas vs 1: [bold]{many / one:.2f}x[/]"
        f" (target >= 2: {'met' if many / one >= 2 else 'NOT met'});"
        f" ingest on PostgreSQL vs Alertmanager: [bold]{pg_ratio:.2f}[/]"
        f" (target >= 0.8: {'met' if pg_ratio >= 0.8 else 'NOT met'}); intake alone"
        f" (serve --no-workers): [bold]{split_ratio:.2f}[/]"
    )
    console.print(
        "count check: "
        + "; ".join(f"{s.name}: {'exactly once' if s.exact else 'MISMATCH'}" for s in setups)
    )


def _cpu(rounds: list[dict[str, float]]) -> str:
    """Median CPU seconds per process over rounds, and the cores they add up to."""
    keys = [k for k in rounds[0] if k != "wall"]
    med = {k: statistics.median(r.get(k, 0.0) for r in rounds) for k in keys}
    wall = statistics.median(r["wall"] for r in rounds)
    parts = ", ".join(f"{k} {v:.1f}" for k, v in med.items())
    return f"{parts} in {wall:.1f}s wall = {sum(med.values()) / wall:.2f} cores"


if __name__ == "__main__":
    raise SystemExit(main())
