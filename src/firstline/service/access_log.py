"""The access log: one line per HTTP request, when `log.access_log` is on.

A plain ASGI middleware (no request object, nothing buffered): it only watches the
response's start for the status and times the whole exchange. The query string is never
logged, since a sender may put a token there.
"""

from __future__ import annotations

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("firstline.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app fails before it responds

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            client = scope.get("client")
            log.info(
                "http_request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client=client[0] if client else None,
            )


def install_access_log(app: ASGIApp, enabled: bool) -> ASGIApp:
    """The app wrapped in the access log when it is enabled, the app itself otherwise."""
    return AccessLog(app) if enabled else app
