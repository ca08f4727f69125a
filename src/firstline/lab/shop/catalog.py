"""catalog: the products, from PostgreSQL. What a product answer looks like depends on the
release the pod runs (LAB_RELEASE, the image tag): 1.5.0 is a bad release that reads a
`discount` attribute two products in five do not have, so their requests raise a real
KeyError, answered 500 and logged with the exception's text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg.rows import dict_row
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from firstline.lab.shop.app import ShopApp
from firstline.lab.shop.database import open_pool
from firstline.lab.shop.env import ShopEnv

GOOD_RELEASE = "1.4.2"
Render = Callable[[dict[str, Any]], dict[str, Any]]


def _product(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "sku": row["sku"], "name": row["name"],
            "price": row["price_cents"] / 100}  # fmt: skip


def _product_with_discount(row: dict[str, Any]) -> dict[str, Any]:
    # the bug shipped in 1.5.0: it assumes every product's attributes were migrated
    discount = row["attributes"]["discount"]
    return {**_product(row), "discount_pct": discount,
            "price": round(row["price_cents"] * (100 - discount) / 10000, 2)}  # fmt: skip


RELEASES: dict[str, Render] = {
    "1.4.2": _product,
    "1.5.0": _product_with_discount,
}


class Catalog:
    def __init__(self, shop: ShopApp) -> None:
        self.shop = shop
        self.dsn = shop.env.need("pg_dsn")
        self.render = RELEASES.get(shop.env.release)
        if self.render is None:
            shop.log.warning(f"release {shop.env.release} is not in the release table: "
                             f"behaving as {GOOD_RELEASE}")  # fmt: skip
            self.render = RELEASES[GOOD_RELEASE]
        shop.on_start.append(self.start)
        shop.route("/products")(self.list_products)
        shop.route("/products/{product_id:int}")(self.get_product)

    async def start(self) -> None:
        self.pool = await open_pool(self.dsn, "catalog", size=4)
        self.shop.on_stop.append(self.pool.close)

    async def _rows(self, sql: str, *args: object) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, args)
            return await cur.fetchall()

    async def list_products(self, _request: Request) -> Response:
        rows = await self._rows("SELECT * FROM products ORDER BY id")
        return JSONResponse([_product(row) for row in rows])

    async def get_product(self, request: Request) -> Response:
        rows = await self._rows("SELECT * FROM products WHERE id = %s",
                                request.path_params["product_id"])  # fmt: skip
        if not rows:
            return JSONResponse({"error": "no such product"}, status_code=404)
        assert self.render is not None
        return JSONResponse(self.render(rows[0]))


def main() -> None:
    shop = ShopApp(ShopEnv.read("catalog"))
    Catalog(shop)
    shop.run()
