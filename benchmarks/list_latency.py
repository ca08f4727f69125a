"""Listing incidents at scale, and disk per escalated incident before and after compaction.

    .venv/bin/python benchmarks/list_latency.py [--incidents 100000] [--rounds 200]
        [--escalated 3] [--no-http] [--json]

1. A store of `--incidents` incidents, written the way intake and the runner leave them
   (an alert, a group, a queue row, six timeline entries, a ~13 KB state snapshot each; a
   mix of statuses), seeded with direct SQL in one transaction. Timed, `--rounds` times
   each after a warm-up: the store's `list_incidents(50)`, `list_incidents(50, status)` for
   a common and a rare status, and `GET /api/v1/incidents?limit=50` through the real app
   (uvicorn on loopback, served from a thread of this process). Median and p95.
2. `--escalated` real runs of an escalating scenario bundle through the graph, in a fresh
   data directory: the bytes each adds to incidents.sqlite and checkpoints.sqlite, then the
   same after `store/retention.compact` (where this code has it).

Run it against older code with PYTHONPATH pointing at that tree's `src`: what it lacks
(compaction) is reported as n/a.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from firstline.domain.incident import IncidentStatus, new_incident_id
from firstline.store.action_log import ActionLog
from firstline.store.audit import AuditLog
from firstline.store.database import Database
from firstline.store.incidents import IncidentStore
from firstline.store.intake import IntakeStore
from firstline.store.outbox import Outbox
from firstline.store.postgres import PostgresDatabase

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "unknown-conversion-drop-checkout"
TARGET_MS = 20.0
START = datetime(2026, 1, 1, tzinfo=UTC)
# roughly what a year of a busy install holds: mostly over, a few still in people's hands
STATUS_MIX = {
    IncidentStatus.RESOLVED: 40,
    IncidentStatus.ESCALATED: 20,
    IncidentStatus.DISMISSED: 14,
    IncidentStatus.RECOMMENDED: 8,
    IncidentStatus.CLOSED: 10,
    IncidentStatus.SELF_RESOLVED: 6,
    IncidentStatus.AWAITING_APPROVAL: 2,
}
SNAPSHOT_BYTES = 13_000


def _snapshot_template(rng: random.Random) -> str:
    """A state snapshot of about SNAPSHOT_BYTES, shaped like a run's (evidence dominates)."""
    evidence = [
        {
            "kind": "metric",
            "source": "prometheus",
            "query": f'sum(rate(http_requests_total{{service="checkout",code=~"5.."}}[5m])) #{n}',
            "status": "ok",
            "points": [[1767225600 + 60 * i, round(rng.random() * 100, 3)] for i in range(24)],
        }
        for n in range(12)
    ]
    state: dict[str, Any] = {
        "incident_id": "@ID@",
        "status": "@STATUS@",
        "alert": {"name": "HighErrorRate", "labels": {"namespace": "shop", "service": "@SVC@"}},
        "evidence": evidence,
        "analyses": [{"hypotheses": [{"pattern": "unknown", "confidence": 0.2}]}],
        "timeline": [],
    }
    text = json.dumps(state)
    return text[: SNAPSHOT_BYTES - 2] if len(text) > SNAPSHOT_BYTES else text


def _open_stores(where: Path | Database) -> None:
    """Every table, as the server creates them (with this code's indexes)."""
    IntakeStore(where).close()
    IncidentStore(where)
    Outbox(where)
    ActionLog(where)
    AuditLog(where)


def seed(where: Path | Database, count: int, *, seed_value: int = 16) -> dict[str, int]:
    """`count` incidents, one second to a few minutes apart; the statuses' counts."""
    _open_stores(where)
    rng = random.Random(seed_value)
    template = _snapshot_template(rng)
    statuses = [s for s, weight in STATUS_MIX.items() for _ in range(weight)]
    counts: dict[str, int] = {}
    incidents, alerts, groups, queue, timeline = [], [], [], [], []
    at = START
    for n in range(count):
        at += timedelta(seconds=rng.randint(1, 300))
        status = rng.choice(statuses)
        counts[status.value] = counts.get(status.value, 0) + 1
        incident = new_incident_id(at)
        stamp, changed = at.isoformat(), (at + timedelta(minutes=3)).isoformat()
        fingerprint = f"{n:016x}"
        snapshot = template.replace("@ID@", incident).replace("@STATUS@", status.value)
        incidents.append((incident, "HighErrorRate", fingerprint, "high", status.value, stamp,
                          changed, "no known pattern explains it; escalated",
                          snapshot.replace("@SVC@", f"svc-{n}")))  # fmt: skip
        body = json.dumps({"name": "HighErrorRate", "fingerprint": fingerprint,
                           "labels": {"namespace": "shop", "service": f"svc-{n}"},
                           "raw": {"annotations": {"summary": "5xx above 5%" * 20}}})  # fmt: skip
        resolved = "firing" if status is IncidentStatus.AWAITING_APPROVAL else "resolved"
        alerts.append((fingerprint, "alertmanager", "HighErrorRate", resolved,
                       f"HighErrorRate|shop|svc-{n}", incident, stamp, changed, body))  # fmt: skip
        groups.append((incident, f"HighErrorRate|shop|svc-{n}", stamp))
        state = "paused" if status is IncidentStatus.AWAITING_APPROVAL else "done"
        queue.append((incident, state, stamp, stamp, 1))
        for k, stage in enumerate(("intake", "triage", "gather_evidence", "analyze", "decide",
                                   "escalate")):  # fmt: skip
            timeline.append((incident, f"{k:04d}-{stage}", stamp, stage, f"{stage} done",
                             "detail " * 8))  # fmt: skip
    rows = (incidents, alerts, groups, queue, timeline)
    if not isinstance(where, Path):
        with where.transaction() as pg:
            _insert_all(pg, *rows)
        with where.connect() as pg:
            pg.execute("ANALYZE")  # as autovacuum would soon after a load this size
        return counts
    with sqlite3.connect(where, isolation_level=None) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN")
        _insert_all(db, *rows)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


def _insert_all(
    db: Any, incidents: Any, alerts: Any, groups: Any, queue: Any, timeline: Any
) -> None:
    """The seeded rows in one transaction: a sqlite3 connection or the store's own."""
    db.executemany(
        "INSERT INTO incidents (id, alert_name, fingerprint, severity, status, created_at,"
        " updated_at, summary, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        incidents,
    )
    db.executemany(
        "INSERT INTO alerts (fingerprint, source, name, status, group_key, incident_id,"
        " first_seen, last_seen, alert) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        alerts,
    )
    db.executemany(
        "INSERT INTO alert_groups (incident_id, group_key, opened_at) VALUES (?, ?, ?)",
        groups,
    )
    db.executemany(
        "INSERT INTO work_queue (incident_id, state, enqueued_at, claimed_at, attempts)"
        " VALUES (?, ?, ?, ?, ?)",
        queue,
    )
    db.executemany(
        "INSERT INTO timeline (incident_id, key, at, stage, event, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        timeline,
    )


# -- timing --------------------------------------------------------------------------------
def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(call: Callable[[], object], rounds: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def list_timings(
    data_dir: Path, rounds: int, http: bool, database: Database | None = None
) -> dict[str, list[float]]:
    store = IncidentStore(database or data_dir / "incidents.sqlite")
    cases: dict[str, Callable[[], object]] = {
        "store.list_incidents(50)": lambda: _expect(store.list_incidents(50)),
        "store.list_incidents(50, status=escalated)": lambda: _expect(
            store.list_incidents(50, IncidentStatus.ESCALATED)
        ),
        "store.list_incidents(50, status=awaiting_approval)": lambda: store.list_incidents(
            50, IncidentStatus.AWAITING_APPROVAL
        ),
    }
    results = {name: timed(call, rounds) for name, call in cases.items()}
    if http:
        url = database.url if isinstance(database, PostgresDatabase) else None
        results |= http_timings(data_dir, rounds, url)
    return results


def _expect(rows: list[Any]) -> list[Any]:
    assert rows, "the seeded store lists incidents"
    return rows


def http_timings(
    data_dir: Path, rounds: int, store_url: str | None = None
) -> dict[str, list[float]]:
    import httpx
    from tests.services.firstline_server import READ_ONLY_TOKEN
    from tests.services.inprocess_server import serve_in_thread, settings_for

    settings = settings_for(data_dir)
    if store_url is not None:
        settings = settings.model_copy(
            update={"store": settings.store.model_copy(update={"url": SecretStr(store_url)})}
        )
    with serve_in_thread(settings) as (url, _ctx), httpx.Client() as client:
        headers = {"Authorization": f"Bearer {READ_ONLY_TOKEN}"}

        def get() -> None:
            answer = client.get(f"{url}/api/v1/incidents", params={"limit": 50}, headers=headers)
            assert answer.status_code == 200 and len(answer.json()) == 50, answer.text[:200]

        # a longer warm-up: the workers finish their start-up (decided approvals) first
        return {"GET /api/v1/incidents?limit=50": timed(get, rounds, warmup=50)}


# -- disk per escalated incident -------------------------------------------------------------
def _bytes(path: Path) -> int:
    """The file's size once its WAL is checkpointed into it (what stays on disk)."""
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


async def disk_per_escalated(data_dir: Path, runs: int) -> dict[str, Any]:
    from firstline.wiring.runtime import open_runtime
    from firstline.wiring.settings import Settings

    settings = Settings(store={"data_dir": data_dir})
    files = {"incidents.sqlite": settings.store.incidents_db,
             "checkpoints.sqlite": settings.store.checkpoints_db}  # fmt: skip
    async with open_runtime(settings):  # the empty store: every table, no incident
        _open_stores(settings.store.incidents_db)
    try:  # compaction's own bookkeeping table is part of the empty store too
        from firstline.store.retention import ensure_schema

        ensure_schema(IntakeStore(settings.store.incidents_db))
    except ImportError:
        pass
    empty = {name: _bytes(p) for name, p in files.items()}
    statuses = []
    for _ in range(runs):
        async with open_runtime(settings, scenario=SCENARIO) as rt:
            assert rt.bundle is not None
            outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=SCENARIO)
            statuses.append(outcome.state.status.value)
    before = {name: (_bytes(p) - empty[name]) / runs for name, p in files.items()}
    result: dict[str, Any] = {"runs": runs, "statuses": statuses, "before": before}
    try:
        from firstline.store.retention import compact
    except ImportError:
        result["after"] = None
        return result
    async with open_runtime(settings) as rt:
        saver = rt.runner.graph.checkpointer
        assert isinstance(saver, BaseCheckpointSaver)
        report = await compact(
            intake=IntakeStore(settings.store.incidents_db),
            checkpointer=saver,
            now=datetime.now(UTC) + timedelta(seconds=settings.store.checkpoint_grace_seconds),
            settings=settings.store,
        )
    result["compacted"] = len(report.checkpoints_deleted)
    result["after"] = {name: (_bytes(p) - empty[name]) / runs for name, p in files.items()}
    return result


# -- report ----------------------------------------------------------------------------------
def run(
    incidents: int, rounds: int, escalated: int, http: bool = True, store: str = "sqlite"
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="firstline-list-") as scratch:
        listing = Path(scratch) / "listing"
        started = time.perf_counter()
        if store == "postgresql":
            from tests.services.postgres import PostgresCluster
            from tests.services.replicas import new_database

            cluster = PostgresCluster().start()
            try:
                database = PostgresDatabase(new_database(cluster))
                counts = seed(database, incidents)
                seeded = time.perf_counter() - started
                with database.connect() as pg:
                    size = int(pg.execute(
                        "SELECT pg_database_size(current_database()) AS n").fetchone()["n"])  # fmt: skip
                timings = list_timings(listing, rounds, http, database)
                database.close()
            finally:
                cluster.stop()
        else:
            counts = seed(listing / "incidents.sqlite", incidents)
            seeded = time.perf_counter() - started
            size = _bytes(listing / "incidents.sqlite")
            timings = list_timings(listing, rounds, http)
        disk = (
            asyncio.run(disk_per_escalated(Path(scratch) / "runs", escalated))
            if escalated
            else None
        )
    return {
        "store": store,
        "incidents": incidents,
        "rounds": rounds,
        "seed_seconds": round(seeded, 1),
        "store_bytes": size,
        "statuses": counts,
        "latency_ms": {
            name: {
                "median": statistics.median(values) * 1000,
                "p95": _percentile(values, 0.95) * 1000,
            }
            for name, values in timings.items()
        },
        "disk_per_escalated": disk,
    }


def print_report(result: dict[str, Any], console: Console) -> None:
    table = Table(
        title=f"Listing the latest 50 of {result['incidents']:,} incidents on {result['store']}"
        f" ({result['store_bytes'] / 1e6:,.0f} MB store), {result['rounds']} rounds"
    )
    for column in ("query", "median ms", "p95 ms", f"< {TARGET_MS:.0f} ms"):
        table.add_column(column, justify="left" if column == "query" else "right")
    for name, ms in result["latency_ms"].items():
        ok = "yes" if ms["p95"] < TARGET_MS else "NO"
        table.add_row(name, f"{ms['median']:.2f}", f"{ms['p95']:.2f}", ok)
    console.print(table)
    disk = result["disk_per_escalated"]
    if not disk:
        return
    table = Table(
        title=f"Disk per escalated incident ({disk['runs']} run(s) of {SCENARIO.name},"
        f" {', '.join(sorted(set(disk['statuses'])))})"
    )
    for column in ("file", "before compaction", "after compaction"):
        table.add_column(column, justify="left" if column == "file" else "right")
    after = disk["after"]
    for name, value in [*disk["before"].items(), ("total", sum(disk["before"].values()))]:
        later = (sum(after.values()) if name == "total" else after[name]) if after else None
        table.add_row(name, f"{value / 1000:,.1f} KB",
                      f"{later / 1000:,.1f} KB" if later is not None else "n/a")  # fmt: skip
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--escalated", type=int, default=3, help="real runs for the disk table")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurement")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite",
                        help="postgresql: a throwaway PostgreSQL 15 cluster on loopback")  # fmt: skip
    args = parser.parse_args(argv)
    console = Console(width=110)
    with console.status(f"seeding {args.incidents:,} incidents and timing"):
        result = run(args.incidents, args.rounds, args.escalated, http=not args.no_http,
                     store=args.store)  # fmt: skip
    show(result, args.json, print_report, console)
    return 0


def show(
    result: dict[str, Any],
    as_json: bool,
    report: Callable[[dict[str, Any], Console], None],
    console: Console,
) -> None:
    """The result as JSON, or as the report's tables and a line about the seeded store."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    report(result, console)
    console.print(f"seeded in {result['seed_seconds']} s; statuses {result['statuses']}")


if __name__ == "__main__":
    sys.exit(main())
