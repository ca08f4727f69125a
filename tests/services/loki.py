"""A real Loki-API server for integration tests: qryn (npm) on embedded ClickHouse.

chdb runs behind the ClickHouse-HTTP adapter in this folder, qryn talks to it as to any
ClickHouse, and tests push and query through Loki's own HTTP API. Both run on free loopback
ports and are stopped by PID. Nothing is installed here: `make test-services` puts qryn in
.test-services/qryn (or wherever FIRSTLINE_QRYN_DIR points). The pieces (the adapter, qryn's
entry point and environment) are the lab's (firstline/lab/monitoring/loki.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from firstline.lab.monitoring.loki import (
    clickhouse_argv,
    clickhouse_ready,
    qryn_entry,
    qryn_env,
)
from tests.services.process import LOOPBACK, Service, ServiceError, free_port, http_ok

__all__ = ["LokiServer", "ns", "qryn_entry", "start_loki"]


def ns(ts: datetime) -> str:
    """Loki's wire format for a timestamp: integer nanoseconds, as a string."""
    return str(int(ts.timestamp()) * 1_000_000_000 + ts.microsecond * 1000)


@dataclass
class LokiServer:
    clickhouse: Service
    qryn: Service
    url: str

    def stop(self) -> None:
        self.qryn.stop()
        self.clickhouse.stop()

    def push(
        self, labels: Mapping[str, str], lines: Iterable[tuple[datetime, str]], batch: int = 5000
    ) -> None:
        """Push one stream through POST /loki/api/v1/push, in batches."""
        values = [[ns(ts), line] for ts, line in lines]
        for i in range(0, len(values), batch):
            self.push_streams([(labels, values[i : i + batch])])

    def push_streams(self, streams: Sequence[tuple[Mapping[str, str], Sequence[Any]]]) -> None:
        """Several streams in one request; values as (datetime, line) or [ns, line]."""
        body = {
            "streams": [
                {
                    "stream": dict(labels),
                    "values": [
                        [ns(ts), line] if isinstance(ts, datetime) else [ts, line]
                        for ts, line in values
                    ],
                }
                for labels, values in streams
            ]
        }
        answer = LOOPBACK.post(f"{self.url}/loki/api/v1/push", json=body, timeout=60)
        if answer.status_code >= 300:
            raise ServiceError(f"push failed: {answer.status_code} {answer.text[:200]}")

    def count(self, selector: str, start: datetime, end: datetime) -> int:
        """Lines a raw query returns (limit 5000), to wait until a push is readable."""
        answer = LOOPBACK.get(
            f"{self.url}/loki/api/v1/query_range",
            params={"query": selector, "start": ns(start), "end": ns(end), "limit": "5000"},
            timeout=30,
        )
        answer.raise_for_status()
        return sum(len(s["values"]) for s in answer.json()["data"]["result"])

    def wait_for_lines(
        self, selector: str, start: datetime, end: datetime, at_least: int, timeout: float = 20
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(selector, start, end) >= at_least:
                return
            time.sleep(0.1)
        raise TimeoutError(f"{selector}: fewer than {at_least} lines after {timeout:.0f}s")


def start_loki(workdir: Path) -> LokiServer:
    entry = qryn_entry()
    ch_port, qryn_port = free_port(), free_port()
    clickhouse = Service(
        "clickhouse-http", clickhouse_argv(ch_port, workdir / "chdb"), workdir,
        clickhouse_ready(ch_port),
    ).start()  # fmt: skip
    url = f"http://127.0.0.1:{qryn_port}"
    try:
        qryn = Service(
            "qryn", ["node", str(entry)], workdir, http_ok(f"{url}/ready"),
            env=qryn_env(ch_port, qryn_port), cwd=entry.parents[2],
        ).start(timeout=60)  # fmt: skip
    except BaseException:
        clickhouse.stop()
        raise
    return LokiServer(clickhouse=clickhouse, qryn=qryn, url=url)
