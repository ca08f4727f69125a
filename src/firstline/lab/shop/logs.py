"""Structured logs: one JSON object a line on stdout and, when LAB_LOKI_URL is set, the same
lines pushed in batches to Loki's push API with the stream labels namespace, service, pod and
level.

Pushing is best effort by design: a slow or absent Loki must never slow a request, so lines
wait in a bounded buffer and are dropped (and counted) when it is full or a push fails."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import httpx
from prometheus_client import Counter

from firstline.lab.shop.env import ShopEnv

BUFFER_LINES = 5000
BATCH_LINES = 500
FLUSH_SECONDS = 1.0
PUSH_TIMEOUT_SECONDS = 2.0

LINES_DROPPED = Counter(
    "shop_log_lines_dropped_total", "Log lines not delivered to Loki", ["reason"]
)
LINES_PUSHED = Counter("shop_log_lines_pushed_total", "Log lines delivered to Loki")


class ShopLog:
    def __init__(self, env: ShopEnv) -> None:
        self.env = env
        self._pending: deque[tuple[str, str, str]] = deque()  # (level, ns timestamp, line)

    def write(self, level: str, message: str, fields: dict[str, Any]) -> None:
        now = time.time_ns()
        record = {
            "ts": datetime.fromtimestamp(now / 1e9, UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "service": self.env.service,
            "pod": self.env.pod,
            "release": self.env.release,
            "msg": message,
            **fields,
        }
        line = json.dumps(record, default=str)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        if self.env.loki_url is None:
            return
        if len(self._pending) >= BUFFER_LINES:
            LINES_DROPPED.labels("buffer_full").inc()
            return
        self._pending.append((level, str(now), line))

    def info(self, message: str, **fields: Any) -> None:
        self.write("info", message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self.write("warning", message, fields)

    def error(self, message: str, **fields: Any) -> None:
        self.write("error", message, fields)

    # delivery to Loki

    def _take_batch(self) -> dict[str, Any] | None:
        if not self._pending:
            return None
        streams: dict[str, list[list[str]]] = {}
        for _ in range(min(BATCH_LINES, len(self._pending))):
            level, ts, line = self._pending.popleft()
            streams.setdefault(level, []).append([ts, line])
        labels = {"namespace": self.env.namespace, "service": self.env.service,
                  "pod": self.env.pod}  # fmt: skip
        return {
            "streams": [
                {"stream": {**labels, "level": level}, "values": values}
                for level, values in streams.items()
            ]
        }

    @staticmethod
    def _lines(batch: dict[str, Any]) -> int:
        return sum(len(stream["values"]) for stream in batch["streams"])

    async def ship_forever(self) -> None:
        """The background task that empties the buffer into Loki."""
        if self.env.loki_url is None:
            return
        url = f"{self.env.loki_url.rstrip('/')}/loki/api/v1/push"
        async with httpx.AsyncClient(timeout=PUSH_TIMEOUT_SECONDS) as client:
            while True:
                batch = self._take_batch()
                if batch is None:
                    await asyncio.sleep(FLUSH_SECONDS)
                    continue
                try:
                    answer = await client.post(url, json=batch)
                    answer.raise_for_status()
                    LINES_PUSHED.inc(self._lines(batch))
                except httpx.HTTPError:
                    LINES_DROPPED.labels("push_failed").inc(self._lines(batch))
                if len(self._pending) < BATCH_LINES:
                    await asyncio.sleep(FLUSH_SECONDS)

    def flush_now(self) -> None:
        """Push what is buffered before the process exits (a crash loop's last words are the
        lines that explain it), within one short timeout."""
        if self.env.loki_url is None:
            return
        url = f"{self.env.loki_url.rstrip('/')}/loki/api/v1/push"
        while (batch := self._take_batch()) is not None:
            try:
                httpx.post(url, json=batch, timeout=PUSH_TIMEOUT_SECONDS).raise_for_status()
            except httpx.HTTPError:
                LINES_DROPPED.labels("push_failed").inc(self._lines(batch))
                return
            LINES_PUSHED.inc(self._lines(batch))


class _Forward(logging.Handler):
    """Warnings from libraries (uvicorn, psycopg's pool) go out as the shop's own lines."""

    def __init__(self, log: ShopLog) -> None:
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        level = "error" if record.levelno >= logging.ERROR else "warning"
        self.log.write(level, record.getMessage(), {"logger": record.name})


def forward_library_logs(log: ShopLog) -> None:
    root = logging.getLogger()
    root.handlers = [_Forward(log)]
    root.setLevel(logging.WARNING)
