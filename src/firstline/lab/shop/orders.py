"""orders: the order book in PostgreSQL, through a small connection pool (ORDERS_POOL_SIZE,
default 6; a request that waits longer than ORDERS_POOL_TIMEOUT_SECONDS for a connection is
answered 503).

Fault `connection-leak` {"sessions": N}: a burst of the classic bug, N pooled connections
that BEGIN, run a query and are never committed or returned, so the server shows them idle in
transaction and the pool starves. When the server terminates them (pg_terminate_backend),
orders notices, logs it and drops them; the pool opens fresh ones and the leak does not come
back until the fault is switched on again."""

from __future__ import annotations

import asyncio
import os
import select
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from firstline.lab.shop.app import ShopApp
from firstline.lab.shop.database import open_pool
from firstline.lab.shop.env import ShopEnv
from firstline.lab.shop.faults import FaultError
from firstline.lab.shop.logs import ShopLog

WATCH_SECONDS = 1.0


def _terminated(conn: AsyncConnection[Any]) -> bool:
    """An idle connection whose socket turned readable heard from the server unasked: the
    backend's FATAL on termination and the close. Reading the socket (not sending a query)
    keeps the session's state_change untouched, so it still looks as idle as it is."""
    if conn.closed:
        return True
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    return bool(readable)


class ConnectionLeak:
    def __init__(self, orders: Orders) -> None:
        self.orders = orders
        self.leaked: list[AsyncConnection[Any]] = []
        self.terminated = 0

    @property
    def log(self) -> ShopLog:
        return self.orders.log

    async def switch(self, on: bool, params: dict[str, Any]) -> None:
        if not on:
            await self._release()
            return
        sessions = params.get("sessions", self.orders.pool_size)
        if isinstance(sessions, bool) or not isinstance(sessions, int) or not 1 <= sessions <= 100:
            raise FaultError(f"sessions must be an integer from 1 to 100, not {sessions!r}")
        pool = self.orders.pool
        for _ in range(sessions):
            try:
                conn = await pool.getconn(timeout=2)
            except PoolTimeout:
                break  # everything is leaked already
            # the bug: a transaction that reads and is then forgotten
            await conn.execute("SELECT count(*) FROM orders WHERE processed_at IS NULL")
            self.leaked.append(conn)
        self.terminated = 0

    async def watch_forever(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            for conn in [c for c in self.leaked if _terminated(c)]:
                self.leaked.remove(conn)
                self.terminated += 1
                self.log.error("database connection terminated by the server: "
                               "dropping it from the pool",
                               backend_pid=conn.info.backend_pid)  # fmt: skip
                await conn.close()
                await self.orders.pool.putconn(conn)  # a closed connection is discarded

    async def _release(self) -> None:
        """The fix shipped: roll back and hand the connections back."""
        while self.leaked:
            conn = self.leaked.pop()
            if not conn.closed:
                await conn.rollback()
            await self.orders.pool.putconn(conn)

    def state(self) -> dict[str, Any]:
        return {"on": bool(self.leaked), "leaked": len(self.leaked),
                "terminated": self.terminated}  # fmt: skip


class Orders:
    def __init__(self, shop: ShopApp) -> None:
        self.shop, self.log = shop, shop.log
        self.dsn = shop.env.need("pg_dsn")
        self.pool_size = int(os.environ.get("ORDERS_POOL_SIZE", "6"))
        self.pool_timeout = float(os.environ.get("ORDERS_POOL_TIMEOUT_SECONDS", "2"))
        self.leak = ConnectionLeak(self)
        shop.faults["connection-leak"] = self.leak
        shop.on_start.append(self.start)
        shop.tasks.append(self.leak.watch_forever)
        shop.route("/orders", methods=("POST",))(self.create)
        shop.route("/orders/recent")(self.recent)

    async def start(self) -> None:
        self.pool: AsyncConnectionPool = await open_pool(
            self.dsn, "orders", size=self.pool_size, wait_seconds=self.pool_timeout
        )
        self.shop.on_stop.append(self.pool.close)

    async def _one(self, sql: str, args: tuple[object, ...]) -> tuple[Any, ...] | Response:
        try:
            async with self.pool.connection() as conn:
                row = await (await conn.execute(sql, args)).fetchone()
        except PoolTimeout:
            stats = self.pool.get_stats()
            self.log.error(f"database pool exhausted: no connection within {self.pool_timeout}s",
                           pool_size=stats.get("pool_size"),
                           requests_waiting=stats.get("requests_waiting"))  # fmt: skip
            return JSONResponse({"error": "database busy"}, status_code=503)
        assert row is not None
        return tuple(row)

    async def create(self, request: Request) -> Response:
        body = await request.json()
        row = await self._one(
            "INSERT INTO orders (sku, quantity, payment_id) VALUES (%s, %s, %s) RETURNING id",
            (str(body.get("sku", "SKU-0001")), int(body.get("quantity", 1)),
             body.get("payment_id")),
        )  # fmt: skip
        if isinstance(row, Response):
            return row
        return JSONResponse({"id": row[0]}, status_code=201)

    async def recent(self, _request: Request) -> Response:
        row = await self._one(
            "SELECT count(*) FROM orders WHERE created_at > now() - interval '5 minutes'", ()
        )
        if isinstance(row, Response):
            return row
        return JSONResponse({"last_5_minutes": row[0]})


def main() -> None:
    shop = ShopApp(ShopEnv.read("orders"))
    Orders(shop)
    shop.run()
