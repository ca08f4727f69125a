"""order-events: a worker that marks new orders processed, ORDER_EVENTS_BATCH_SIZE at a time
(default 50). Its configuration is checked before anything starts: an invalid batch size is
logged and the process exits 1, which under a Deployment is a crash loop on bad config."""

from __future__ import annotations

import asyncio
import os
import sys

from prometheus_client import Counter
from psycopg import Error as PgError

from firstline.lab.shop.app import ShopApp
from firstline.lab.shop.database import open_pool
from firstline.lab.shop.env import ShopEnv

BATCH_VARIABLE = "ORDER_EVENTS_BATCH_SIZE"
POLL_SECONDS = 2.0
PROCESSED = Counter("order_events_processed_total", "Orders marked processed")

CLAIM = """
UPDATE orders SET processed_at = now() WHERE id IN (
    SELECT id FROM orders WHERE processed_at IS NULL ORDER BY id LIMIT %s
    FOR UPDATE SKIP LOCKED)
"""


def batch_size(raw: str | None) -> int | None:
    """The configured batch size, or None when the value is not an integer of at least 1."""
    if raw is None:
        return 50
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 1 else None


class OrderEvents:
    def __init__(self, shop: ShopApp, batch: int) -> None:
        self.shop, self.batch = shop, batch
        self.dsn = shop.env.pg_dsn
        shop.tasks.append(self.process_forever)

    async def process_forever(self) -> None:
        if self.dsn is None:
            self.shop.log.warning("LAB_PG_DSN is not set: no orders to process")
            return
        pool = await open_pool(self.dsn, "order-events", size=1)
        try:
            while True:
                try:
                    async with pool.connection() as conn:
                        done = (await conn.execute(CLAIM, (self.batch,))).rowcount
                except PgError as exc:
                    self.shop.log.error(f"processing orders failed: {exc}")
                    done = 0
                PROCESSED.inc(max(done, 0))
                if done < self.batch:
                    await asyncio.sleep(POLL_SECONDS)
        finally:
            await pool.close()


def main() -> None:
    env = ShopEnv.read("order-events")
    shop = ShopApp(env)
    raw = os.environ.get(BATCH_VARIABLE)
    batch = batch_size(raw)
    if batch is None:
        shop.log.error(f"invalid configuration: {BATCH_VARIABLE}={raw} "
                       "(must be an integer of at least 1)")  # fmt: skip
        shop.log.flush_now()
        sys.exit(1)
    OrderEvents(shop, batch)
    shop.run()
