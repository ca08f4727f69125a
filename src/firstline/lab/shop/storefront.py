"""storefront: pages built from the catalog, cached in Redis under `cache:page:<path>` with a
TTL, visitor sessions under `session:<id>`, and HTTPS on LAB_TLS_PORT with the certificate in
LAB_CERTS_DIR (reloaded when replaced).

Fault `cache-runaway`: a warm-up job gone wrong writes uniquely keyed `cache:page:*` entries
with no TTL until Redis refuses writes at maxmemory (noeviction). From then on every write
fails with Redis's own OOM error: page caching degrades (served uncached) and anything that
needs a session write answers 503, until someone deletes `cache:*`."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from typing import Any

import httpx
import redis.asyncio as aioredis
from redis.exceptions import OutOfMemoryError, RedisError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from firstline.lab.shop.app import ShopApp
from firstline.lab.shop.certs import SERVER, ReloadingCertificate
from firstline.lab.shop.env import ShopEnv
from firstline.lab.shop.faults import FaultError, positive_number
from firstline.lab.shop.logs import ShopLog
from firstline.lab.shop.relay import Relay

PAGE_PREFIX = "cache:page:"
SESSION_PREFIX = "session:"
SESSION_COOKIE = "session"
SESSION_TTL_SECONDS = 3600
LAST_PAGE_BYTES = 2 * 1024 * 1024


def redis_failure(exc: RedisError) -> str:
    # redis-py strips the error code from the message; people search logs for Redis's own text
    return f"OOM {exc}" if isinstance(exc, OutOfMemoryError) else f"{type(exc).__name__}: {exc}"


class CacheRunaway:
    """The one-shot burst: runs in the background until Redis answers OOM (or `max_mb` were
    written, so a Redis without maxmemory is not filled without bound)."""

    def __init__(self, redis: aioredis.Redis, log: ShopLog) -> None:
        self.redis, self.log = redis, log
        self._task: asyncio.Task[None] | None = None
        self.keys_written = 0
        self.stopped_by: str | None = None

    async def switch(self, on: bool, params: dict[str, Any]) -> None:
        running = self._task is not None and not self._task.done()
        if not on:
            if running and self._task is not None:
                self._task.cancel()
            return
        if running:
            raise FaultError("the cache warm-up burst is already running")
        value_kb = positive_number(params, "value_kb", 8)
        max_mb = positive_number(params, "max_mb", 256)
        self.keys_written, self.stopped_by = 0, None
        self._task = asyncio.create_task(self._burst(int(value_kb * 1024), max_mb))

    async def _burst(self, value_bytes: int, max_mb: float) -> None:
        value = os.urandom(value_bytes // 2).hex()
        budget = int(max_mb * 1024 * 1024 / value_bytes)
        self.log.warning("cache warm-up started", value_bytes=value_bytes)
        try:
            while self.keys_written < budget:
                pipe = self.redis.pipeline(transaction=False)
                for _ in range(100):
                    pipe.set(self._key(), value)
                await pipe.execute()
                self.keys_written += 100
            self.stopped_by = "max_mb"
        except OutOfMemoryError:
            await self._last_pages()
        except asyncio.CancelledError:
            self.stopped_by = "cancelled"
            raise

    @staticmethod
    def _key() -> str:
        return f"{PAGE_PREFIX}/warmup/{secrets.token_hex(8)}"

    async def _last_pages(self) -> None:
        """Once the refused pipeline's buffers are freed Redis sits just under maxmemory,
        where a small write would still pass now and then. The job's last pages take it
        clearly over, so every write after them meets the OOM error, not just some. They are
        written with SETRANGE at a far offset: Redis checks memory before a command runs, and a
        tiny command that allocates a large value is let through while there is any room (a
        large SET is not: its own request buffer counts against the limit)."""
        try:
            for _ in range(8):
                await self.redis.setrange(self._key(), LAST_PAGE_BYTES - 1, "x")
                self.keys_written += 1
            self.stopped_by = "no OOM after the last pages"
        except OutOfMemoryError as exc:
            self.stopped_by = "maxmemory"
            self.log.error(f"cache warm-up stopped: {redis_failure(exc)}",
                           keys_written=self.keys_written)  # fmt: skip

    def state(self) -> dict[str, Any]:
        running = self._task is not None and not self._task.done()
        return {"on": running, "keys_written": self.keys_written, "stopped_by": self.stopped_by}


class Storefront:
    def __init__(self, shop: ShopApp) -> None:
        env = shop.env
        self.shop, self.log = shop, shop.log
        self.redis = aioredis.from_url(env.need("redis_url"), decode_responses=True,
                                       socket_timeout=2)  # fmt: skip
        self.catalog = httpx.AsyncClient(base_url=env.need("catalog_url"), timeout=2.0)
        self.page_ttl = int(os.environ.get("STOREFRONT_PAGE_TTL_SECONDS", "30"))
        shop.faults["cache-runaway"] = CacheRunaway(self.redis, self.log)
        shop.route("/")(self.home)
        shop.route("/products/{product_id:int}")(self.product)
        shop.route("/cart", methods=("POST",))(self.add_to_cart)
        shop.on_stop.append(self.catalog.aclose)
        shop.on_stop.append(self.redis.aclose)

    async def _session(self, request: Request) -> tuple[str, bool] | Response:
        """The visitor's session id and whether it is new; a new one must be written, and
        when Redis refuses the write the request fails (503), as a login would."""
        session = request.cookies.get(SESSION_COOKIE)
        if session and await self.redis.exists(SESSION_PREFIX + session):
            return session, False
        session = secrets.token_hex(12)
        try:
            await self.redis.set(SESSION_PREFIX + session, json.dumps({"cart": []}),
                                 ex=SESSION_TTL_SECONDS)  # fmt: skip
        except RedisError as exc:
            self.log.error(f"session write failed: {redis_failure(exc)}", path=request.url.path)
            return JSONResponse({"error": "session store unavailable"}, status_code=503)
        return session, True

    async def _page(self, request: Request, catalog_path: str) -> Response:
        found = await self._session(request)
        if isinstance(found, Response):
            return found
        session, new = found
        key = PAGE_PREFIX + request.url.path
        html = await self.redis.get(key)
        if html is None:
            answer = await self.catalog.get(catalog_path)
            if answer.status_code == 404:
                return JSONResponse({"error": "no such product"}, status_code=404)
            if answer.status_code != 200:
                self.log.error(f"upstream catalog answered {answer.status_code}",
                               path=catalog_path)  # fmt: skip
                return JSONResponse({"error": "catalog unavailable"}, status_code=502)
            html = _render(answer.json())
            try:
                await self.redis.set(key, html, ex=self.page_ttl)
            except RedisError as exc:  # degrade: serve it uncached
                self.log.warning(f"page cache write failed: {redis_failure(exc)}", key=key)
        response = HTMLResponse(html)
        if new:
            response.set_cookie(SESSION_COOKIE, session, max_age=SESSION_TTL_SECONDS)
        return response

    async def home(self, request: Request) -> Response:
        return await self._page(request, "/products")

    async def product(self, request: Request) -> Response:
        return await self._page(request, f"/products/{request.path_params['product_id']}")

    async def add_to_cart(self, request: Request) -> Response:
        found = await self._session(request)
        if isinstance(found, Response):
            return found
        session, _ = found
        body = await request.json()
        key = SESSION_PREFIX + session
        try:
            stored = json.loads(await self.redis.get(key) or '{"cart": []}')
            stored["cart"].append(body.get("sku"))
            await self.redis.set(key, json.dumps(stored), keepttl=True)
        except RedisError as exc:
            self.log.error(f"cart write failed: {redis_failure(exc)}", session=session)
            return JSONResponse({"error": "cart unavailable"}, status_code=503)
        response = JSONResponse({"cart": stored["cart"]})
        response.set_cookie(SESSION_COOKIE, session, max_age=SESSION_TTL_SECONDS)
        return response


def _render(data: Any) -> str:
    items = data if isinstance(data, list) else [data]
    rows = "".join(f"<li>{item.get('name')}: {item.get('price')}</li>" for item in items)
    return f"<html><body><h1>Lab shop</h1><ul>{rows}</ul></body></html>"


def _serve_tls(shop: ShopApp, env: ShopEnv) -> None:
    if env.tls_port is None or env.port is None:
        return
    certs = env.certs_dir
    if certs is None:
        raise SystemExit("storefront: LAB_TLS_PORT is set but LAB_CERTS_DIR is not")
    certificate = ReloadingCertificate(certs / f"{SERVER}.crt", certs / f"{SERVER}.key", shop.log)
    relay = Relay(env.tls_port, env.port, tls=certificate.server_context())
    shop.on_start.append(relay.open)
    shop.on_stop.append(relay.close)


def main() -> None:
    env = ShopEnv.read("storefront")
    shop = ShopApp(env)
    Storefront(shop)
    _serve_tls(shop, env)
    shop.run()
