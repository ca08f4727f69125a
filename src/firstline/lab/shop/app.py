"""The HTTP side every shop service shares: a Starlette app with /healthz, /metrics and the
fault admin API, request metrics without namespace or service labels (Prometheus adds those
from service discovery), unhandled exceptions answered 500 and logged with their text, and
uvicorn on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firstline.lab.shop.env import ShopEnv
from firstline.lab.shop.faults import Fault, FaultError
from firstline.lab.shop.logs import ShopLog, forward_library_logs

HOST = "127.0.0.1"
# the plumbing is not the service: scrapes, probes and fault switching stay out of the metrics
UNOBSERVED = ("/metrics", "/healthz", "/admin/")

REQUESTS = Counter(
    "http_requests", "HTTP requests answered", ["code", "method", "handler"]
)  # exposed as http_requests_total
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_CONVERTER = re.compile(r":\w+}")

Handler = Callable[[Request], Awaitable[Response]]
Task = Callable[[], Coroutine[Any, Any, None]]


class ShopApp:
    def __init__(self, env: ShopEnv) -> None:
        self.env = env
        self.log = ShopLog(env)
        self.faults: dict[str, Fault] = {}
        self.routes: list[BaseRoute] = []
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        self.tasks: list[Task] = [self.log.ship_forever]

    def route(self, path: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(path, handler, methods=list(methods)))
            return handler

        return register

    def asgi(self) -> Starlette:
        plumbing = [
            Route("/healthz", self._healthz),
            Route("/metrics", _metrics),
            Route("/admin/faults", self._list_faults),
            Route("/admin/faults/{name}", self._switch_fault, methods=["POST"]),
        ]
        app = Starlette(routes=[*plumbing, *self.routes], lifespan=self._lifespan)
        app.add_middleware(Observe, shop=self, routes=self.routes)
        return app

    def run(self, port: int | None = None) -> None:
        forward_library_logs(self.log)
        listen = port if port is not None else self.env.port
        if listen is None:
            raise SystemExit(f"{self.env.service}: PORT is not set")
        config = uvicorn.Config(self.asgi(), host=HOST, port=listen, log_config=None,
                                access_log=False, timeout_graceful_shutdown=2)  # fmt: skip
        uvicorn.Server(config).run()

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        for start in self.on_start:
            await start()
        running = [asyncio.create_task(task()) for task in self.tasks]
        self.log.info("started", release=self.env.release, port=self.env.port)
        try:
            yield
        finally:
            self.log.info("stopping")
            for task in running:
                task.cancel()
            for stop in self.on_stop:
                with contextlib.suppress(Exception):
                    await stop()
            self.log.flush_now()

    async def _healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": self.env.service,
                             "release": self.env.release})  # fmt: skip

    async def _list_faults(self, _request: Request) -> Response:
        return JSONResponse({name: fault.state() for name, fault in self.faults.items()})

    async def _switch_fault(self, request: Request) -> Response:
        name = request.path_params["name"]
        fault = self.faults.get(name)
        if fault is None:
            return JSONResponse({"error": f"no fault {name!r}", "faults": sorted(self.faults)},
                                status_code=404)  # fmt: skip
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("on"), bool):
            return JSONResponse({"error": 'the body must be {"on": true|false, ...params}'},
                                status_code=400)  # fmt: skip
        on = body.pop("on")
        try:
            await fault.switch(on, body)
        except FaultError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        self.log.warning(f"fault {name} switched {'on' if on else 'off'}", fault=name,
                         params=body)  # fmt: skip
        return JSONResponse({name: fault.state()})


async def _metrics(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class Observe:
    """Counts and times every request by its route template, and turns an exception that
    escaped a handler into a logged 500 (with the exception's text, as people grep for it)."""

    def __init__(self, app: ASGIApp, shop: ShopApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.shop = shop
        self.routes = routes

    def _handler(self, scope: Scope) -> str:
        for route in self.routes:
            if route.matches(scope)[0] is Match.FULL and isinstance(route, Route):
                return _CONVERTER.sub("}", route.path)  # /products/{product_id}
        return "other"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(UNOBSERVED):
            await self.app(scope, receive, send)
            return
        handler = self._handler(scope)
        status = 500
        started = False

        async def watch(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = int(message["status"]), True
            await send(message)

        began = time.perf_counter()
        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            status = 500
            text = f"{type(exc).__name__}: {exc}"
            self.shop.log.error(f"unhandled exception in {scope['method']} {scope['path']}: "
                                f"{text}", handler=handler, exception=text)  # fmt: skip
            if not started:
                await JSONResponse({"error": text}, status_code=500)(scope, receive, send)
        finally:
            REQUESTS.labels(str(status), scope["method"], handler).inc()
            DURATION.labels(scope["method"], handler).observe(time.perf_counter() - began)
