"""The shop's PostgreSQL schema (products and orders) and the connection pool each service
opens; created at start if missing, under an advisory lock so pods starting together do not
race each other."""

from __future__ import annotations

import json

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

SCHEMA_LOCK = 18_0001
PRODUCTS = 20

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id integer PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    price_cents integer NOT NULL,
    attributes jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS orders (
    id bigserial PRIMARY KEY,
    sku text NOT NULL,
    quantity integer NOT NULL,
    payment_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX IF NOT EXISTS orders_unprocessed ON orders (id) WHERE processed_at IS NULL;
"""


def _seed_attributes(product_id: int) -> dict[str, int]:
    # two products in five were never migrated to carry a discount: release 1.5.0 trips on them
    return {} if product_id % 5 in (0, 1) else {"discount": 5 * (product_id % 4)}


async def ensure_schema(conn: AsyncConnection[object]) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        await conn.execute(SCHEMA)
        for product_id in range(1, PRODUCTS + 1):
            await conn.execute(
                "INSERT INTO products (id, sku, name, price_cents, attributes)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                (product_id, f"SKU-{product_id:04d}", f"Lab product {product_id}",
                 500 + 125 * product_id, json.dumps(_seed_attributes(product_id))),
            )  # fmt: skip


async def open_pool(
    dsn: str, application: str, size: int, wait_seconds: float = 5.0
) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        dsn, min_size=1, max_size=size, timeout=wait_seconds, open=False,
        kwargs={"application_name": application, "connect_timeout": 5},
    )  # fmt: skip
    await pool.open(wait=True, timeout=30)
    async with pool.connection() as conn:
        await ensure_schema(conn)
    return pool
