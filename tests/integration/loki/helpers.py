"""Builders for the Loki tests, and a loopback stub that answers per path and records the
request headers (for auth, tenant and Loki's own wire formats, which qryn does not show)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from firstline.domain.alert import Alert, fingerprint_labels
from firstline.domain.query import QueryScope
from firstline.sources.loki.adapter import LokiBackend
from firstline.sources.settings import LokiSettings
from tests.services.process import free_port


def now_ms() -> datetime:
    """Now, on a whole millisecond: qryn keeps timestamps to about that precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def alert_with(**labels: str) -> Alert:
    merged = {"alertname": "LokiTest", **labels}
    return Alert(
        source="test",
        name="LokiTest",
        labels=merged,
        starts_at=datetime.now(UTC),
        fingerprint=fingerprint_labels(merged),
    )


def scope_of(
    labels: dict[str, str], start: datetime | None = None, end: datetime | None = None
) -> QueryScope:
    end = end or datetime.now(UTC) + timedelta(seconds=1)
    start = start or end - timedelta(hours=1)
    fired = alert_with(**labels)
    return QueryScope(
        alert=fired, namespace=fired.namespace, service=fired.service, start=start, end=end
    )


def backend(url: str, settings: dict[str, Any] | None = None, **options: Any) -> LokiBackend:
    return LokiBackend(LokiSettings(url=url, **(settings or {})), **options)


def lines_every_ms(start: datetime, texts: list[str]) -> list[tuple[datetime, str]]:
    return [(start + timedelta(milliseconds=i), text) for i, text in enumerate(texts)]


@dataclass
class Route:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes


@dataclass
class PathStub:
    routes: dict[str, Route]
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@contextmanager
def path_stub(routes: dict[str, Route]) -> Iterator[tuple[str, PathStub]]:
    """Answers by path (the query string ignored); 404 for anything else."""
    stub = PathStub(routes)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            stub.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = stub.routes.get(path, Route(404, b"404 page not found"))
            body = route.body if isinstance(route.body, bytes) else json.dumps(route.body).encode()
            self.send_response(route.status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}", stub
    finally:
        server.shutdown()
        server.server_close()
