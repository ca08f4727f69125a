"""A loopback HTTP server that misbehaves on purpose: 500s, slowness, malformed JSON.

Used only for fault tests, where the point is a broken backend; everything that checks the
protocol itself runs against the real servers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.services.process import free_port


@dataclass
class Behaviour:
    status: int = 200
    body: bytes = b"{}"
    delay_seconds: float = 0.0
    content_type: str = "application/json"
    hits: list[str] = field(default_factory=list)


@contextmanager
def misbehaving_server(behaviour: Behaviour) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _serve(self) -> None:
            behaviour.hits.append(self.path)
            time.sleep(behaviour.delay_seconds)
            try:
                self.send_response(behaviour.status)
                self.send_header("Content-Type", behaviour.content_type)
                self.send_header("Content-Length", str(len(behaviour.body)))
                self.end_headers()
                self.wfile.write(behaviour.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first: that is what a timeout test wants

        do_GET = _serve
        do_POST = _serve

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
