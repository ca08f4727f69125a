"""The console's incident list (`GET /`) at scale, with and without filters.

    .venv/bin/python benchmarks/console_list.py [--incidents 100000] [--rounds 50] [--json]

A store of `--incidents` incidents seeded as benchmarks/list_latency.py seeds one (its
`seed`: an alert, a queue row, a timeline and a ~13 KB snapshot each, a mix of statuses,
all severity `high`, service `svc-<n>`, opened from 2026-01-01 on), served by the real app
(uvicorn on loopback, in a thread of this process). A read-only token signs in through the
login form; then each page is fetched `--rounds` times after a warm-up, through real HTTP,
the whole HTML page read. Median and p95 per page; the target is p95 < 300 ms.

The filters include the worst cases: a value no incident has (the newest-first walk goes
through the whole index before it knows) and a service only the oldest incident has.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from benchmarks.list_latency import _percentile, seed, show, timed
from rich.console import Console
from rich.table import Table

TARGET_MS = 300.0


def pages(incidents: int) -> dict[str, str]:
    """What is timed: a label for each list page's query string."""
    return {
        "no filter": "",
        "status=escalated (20%)": "status=escalated",
        "status=awaiting_approval (2%)": "status=awaiting_approval",
        "severity=high (every one)": "severity=high",
        "severity=critical (none)": "severity=critical",
        "service of the oldest incident": "service=svc-0",
        "service=nothing-has-this (none)": "service=nothing-has-this",
        "opened in the last 24h (none)": "since=24h",
        "status=resolved + severity=critical (none)": "status=resolved&severity=critical",
        "status + severity + 30d": "status=escalated&severity=high&since=30d",
        "second page (before=...)": "before=@BEFORE@",
    }


def run(incidents: int, rounds: int) -> dict[str, Any]:
    from tests.services.firstline_server import READ_ONLY_TOKEN
    from tests.services.inprocess_server import serve_in_thread, settings_for

    with tempfile.TemporaryDirectory(prefix="firstline-console-") as scratch:
        data = Path(scratch) / "data"
        started = time.perf_counter()
        counts = seed(data / "incidents.sqlite", incidents)
        seeded = time.perf_counter() - started
        with (
            serve_in_thread(settings_for(data)) as (url, ctx),
            httpx.Client(base_url=url, timeout=60) as client,
        ):
            signed = client.post("/login", data={"token": READ_ONLY_TOKEN, "next": "/"})
            assert signed.status_code == 303 and "firstline_session" in client.cookies, signed.text
            first = ctx.store.list_incidents(50)
            before = first[-1].created_at.isoformat()
            timings: dict[str, list[float]] = {}
            rows: dict[str, int] = {}
            for label, query in pages(incidents).items():
                path = "/?" + query.replace("@BEFORE@", before) if query else "/"

                def get(path: str = path) -> str:
                    answer = client.get(path)
                    assert answer.status_code == 200, (path, answer.status_code)
                    return answer.text

                rows[label] = get().count('<td data-label="Opened">')
                # a longer first warm-up: the workers finish their start-up first
                timings[label] = timed(get, rounds, warmup=20 if not timings else 3)
    return {
        "incidents": incidents,
        "rounds": rounds,
        "seed_seconds": round(seeded, 1),
        "statuses": counts,
        "latency_ms": {
            label: {
                "median": statistics.median(values) * 1000,
                "p95": _percentile(values, 0.95) * 1000,
                "rows": rows[label],
            }
            for label, values in timings.items()
        },
    }


def print_report(result: dict[str, Any], console: Console) -> None:
    table = Table(
        title=f"GET / (the console's list, 50 a page) over {result['incidents']:,} incidents,"
        f" {result['rounds']} rounds each"
    )
    for column in ("page", "rows", "median ms", "p95 ms", f"< {TARGET_MS:.0f} ms"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for label, ms in result["latency_ms"].items():
        ok = "yes" if ms["p95"] < TARGET_MS else "NO"
        table.add_row(label, str(ms["rows"]), f"{ms['median']:.1f}", f"{ms['p95']:.1f}", ok)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    console = Console(width=110)
    with console.status(f"seeding {args.incidents:,} incidents and timing"):
        result = run(args.incidents, args.rounds)
    show(result, args.json, print_report, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
