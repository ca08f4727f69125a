"""The load generator: steady traffic over every shop service (LAB_LOAD_RPS requests a
second in all, 8 by default), so each has request rates and errors show up as ratios. One
asyncio loop and a cap on requests in flight keep it light when a service stalls."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import Awaitable, Callable

import httpx

from firstline.lab.shop.database import PRODUCTS
from firstline.lab.shop.env import ShopEnv
from firstline.lab.shop.logs import ShopLog
from firstline.lab.shop.storefront import SESSION_COOKIE

MAX_IN_FLIGHT = 32
SESSIONS_KEPT = 200
NEW_VISITOR_SHARE = 0.25
REPORT_SECONDS = 30.0


class Load:
    def __init__(self, env: ShopEnv, client: httpx.AsyncClient, log: ShopLog) -> None:
        self.env, self.client, self.log = env, client, log
        self.sessions: list[str] = []
        self.outcomes: dict[str, int] = {}
        self.plan: list[tuple[float, Callable[[], Awaitable[httpx.Response]]]] = []
        if env.storefront_url:
            self.plan += [(3.0, self.browse), (1.0, self.add_to_cart)]
        if env.catalog_url:
            self.plan.append((1.5, self.catalog))
        if env.checkout_url:
            self.plan.append((1.5, self.checkout))
        if env.orders_url:
            self.plan.append((1.0, self.orders))

    def _cookies(self) -> dict[str, str]:
        if not self.sessions or random.random() < NEW_VISITOR_SHARE:
            return {}
        return {SESSION_COOKIE: random.choice(self.sessions)}

    def _keep_session(self, answer: httpx.Response) -> None:
        session = answer.cookies.get(SESSION_COOKIE)
        if session and session not in self.sessions:
            self.sessions = [*self.sessions[-(SESSIONS_KEPT - 1) :], session]

    async def browse(self) -> httpx.Response:
        path = random.choice(["/", *[f"/products/{i}" for i in range(1, PRODUCTS + 1)]])
        answer = await self.client.get(f"{self.env.storefront_url}{path}", cookies=self._cookies())
        self._keep_session(answer)
        return answer

    async def add_to_cart(self) -> httpx.Response:
        answer = await self.client.post(f"{self.env.storefront_url}/cart", cookies=self._cookies(),
                                        json={"sku": f"SKU-{random.randint(1, PRODUCTS):04d}"})  # fmt: skip
        self._keep_session(answer)
        return answer

    async def catalog(self) -> httpx.Response:
        return await self.client.get(
            f"{self.env.catalog_url}/products/{random.randint(1, PRODUCTS)}"
        )

    async def checkout(self) -> httpx.Response:
        return await self.client.post(f"{self.env.checkout_url}/checkout",
                                      json={"sku": f"SKU-{random.randint(1, PRODUCTS):04d}",
                                            "quantity": random.randint(1, 3)})  # fmt: skip

    async def orders(self) -> httpx.Response:
        return await self.client.get(f"{self.env.orders_url}/orders/recent")

    async def _one(self, request: Callable[[], Awaitable[httpx.Response]], gate: asyncio.Semaphore
                   ) -> None:  # fmt: skip
        outcome = "error"
        try:
            outcome = str((await request()).status_code)
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        finally:
            gate.release()
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    async def run(self, rps: float) -> None:
        if not self.plan:
            raise SystemExit("loadgen: set at least one of LAB_STOREFRONT_URL, LAB_CATALOG_URL, "
                             "LAB_CHECKOUT_URL, LAB_ORDERS_URL")  # fmt: skip
        weights = [weight for weight, _ in self.plan]
        requests = [request for _, request in self.plan]
        gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        loop = asyncio.get_running_loop()
        next_at, report_at = loop.time(), loop.time() + REPORT_SECONDS
        running: set[asyncio.Task[None]] = set()
        while True:
            next_at += random.expovariate(rps)  # Poisson arrivals, as real visitors come
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            if gate.locked():
                self.outcomes["skipped"] = self.outcomes.get("skipped", 0) + 1
                continue
            await gate.acquire()
            task = asyncio.create_task(self._one(random.choices(requests, weights)[0], gate))
            running.add(task)
            task.add_done_callback(running.discard)
            if loop.time() >= report_at:
                self.log.info("load sent", outcomes=dict(self.outcomes))
                self.outcomes.clear()
                report_at += REPORT_SECONDS


async def _main(env: ShopEnv) -> None:
    log = ShopLog(env)
    rps = float(os.environ.get("LAB_LOAD_RPS", "8") or 8)
    async with httpx.AsyncClient(timeout=5.0) as client:
        shipper = asyncio.create_task(log.ship_forever())
        log.info("load generator started", rps=rps)
        try:
            await Load(env, client, log).run(rps)
        finally:
            shipper.cancel()
            log.flush_now()


def main() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(ShopEnv.read("loadgen")))
