"""A real Loki-API server for integration tests: qryn (npm) on embedded ClickHouse.

chdb runs behind the ClickHouse-HTTP adapter in this folder, qryn talks to it as to any
ClickHouse, and tests push and query through Loki's own HTTP API. Both run on free loopback
ports and are stopped by PID. Nothing is installed here: `make test-services` puts qryn in
.test-services/qryn (or wherever FIRSTLINE_QRYN_DIR points).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.services.process import LOOPBACK, Service, ServiceError, free_port, http_ok

_REPO = Path(__file__).resolve().parents[2]
DEFAULT_QRYN_DIR = _REPO / ".test-services" / "qryn"
_ENTRY = Path("node_modules") / "qryn" / "qryn_node.js"


def qryn_entry() -> Path:
    """qryn's start script, or a ServiceError telling the reader how to install it."""
    configured = os.environ.get("FIRSTLINE_QRYN_DIR")
    root = Path(configured) if configured else DEFAULT_QRYN_DIR
    entry = root / _ENTRY
    if not entry.is_file():
        raise ServiceError(
            f"qryn is not installed at {root} (looked for {entry}): run `make test-services`"
            + ("" if configured else ", or point FIRSTLINE_QRYN_DIR at an install")
        )
    if shutil.which("node") is None:
        raise ServiceError("node is not on PATH; qryn needs Node.js 20")
    return entry


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
        "clickhouse-http",
        [sys.executable, "-m", "tests.services.clickhouse_http", str(ch_port),
         str(workdir / "chdb")],
        workdir, http_ok(f"http://127.0.0.1:{ch_port}/ping"), cwd=_REPO,
    ).start()  # fmt: skip
    env = {
        "CLICKHOUSE_SERVER": "127.0.0.1",
        "CLICKHOUSE_PORT": str(ch_port),
        "CLICKHOUSE_DB": "qryn",
        "CLICKHOUSE_AUTH": "default:",
        "PORT": str(qryn_port),
        "HOST": "127.0.0.1",
    }
    url = f"http://127.0.0.1:{qryn_port}"
    try:
        qryn = Service(
            "qryn", ["node", str(entry)], workdir, http_ok(f"{url}/ready"), env=env,
            cwd=entry.parents[2],
        ).start(timeout=60)  # fmt: skip
    except BaseException:
        clickhouse.stop()
        raise
    return LokiServer(clickhouse=clickhouse, qryn=qryn, url=url)
