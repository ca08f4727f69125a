"""A ClickHouse HTTP interface over chdb (embedded ClickHouse), for qryn in the lab and tests.

qryn speaks ClickHouse's HTTP protocol: the SQL is the `query` URL parameter followed by the
request body, and answers default to TabSeparated. chdb runs the SQL in-process on a
session directory. Run: python -m firstline.lab.monitoring.clickhouse_http PORT DATA_DIR

chdb (a dev dependency, as is the rest of the lab's Loki) is imported by the program only,
so importing this module costs nothing.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

_LOCK = threading.Lock()  # one chdb session; ClickHouse itself serialises little, chdb more


class Handler(BaseHTTPRequestHandler):
    session: Any  # chdb.session.Session, set by main()

    def log_message(self, format: str, *args: object) -> None:
        return

    def _run(self, body: bytes) -> None:
        params = parse_qs(urlparse(self.path).query)
        sql = " ".join(params.get("query", [])) + " " + body.decode("utf-8", "replace")
        sql = sql.strip()
        if not sql:
            self._answer(200, b"Ok.\n", "text/plain")
            return
        database = params.get("database", [None])[0]
        try:
            with _LOCK:
                if database:
                    self.session.query(f"USE {database}")
                result = self.session.query(sql, "TabSeparated")
            self._answer(200, result.bytes() if result is not None else b"")
        except Exception as exc:  # ClickHouse answers errors as text with a 500
            self._answer(500, f"Code: 1. DB::Exception: {exc}\n".encode())

    def _answer(
        self, status: int, payload: bytes, content_type: str = "text/tab-separated-values"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path in ("/ping", "/") and "query" not in parse_qs(url.query):
            self._answer(200, b"Ok.\n", "text/plain")
            return
        self._run(b"")

    def do_POST(self) -> None:
        self._run(self._body())

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []  # node's http client streams bodies chunked
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


def main() -> None:
    from chdb import session as chdb_session

    port, data_dir = int(sys.argv[1]), sys.argv[2]
    Handler.session = chdb_session.Session(data_dir)  # type: ignore[no-untyped-call]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
