"""checkout: charges through the payments gateway (LAB_PAYMENTS_URL, outside the cluster,
1 s timeout) and then records the order with the orders service. A gateway that refuses or
stalls is answered 502 / 504 and logged naming the dependency, as an on-call engineer would
want to read it."""

from __future__ import annotations

import errno
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from firstline.lab.shop.app import ShopApp
from firstline.lab.shop.env import ShopEnv

PAYMENTS = "payments-gateway"
PAYMENTS_TIMEOUT_SECONDS = 1.0


def _connect_reason(exc: httpx.ConnectError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    return "connection refused" if "refused" in str(exc).lower() else str(exc)


class Checkout:
    def __init__(self, shop: ShopApp) -> None:
        env = shop.env
        self.log = shop.log
        self.payments = httpx.AsyncClient(base_url=env.need("payments_url"),
                                          timeout=PAYMENTS_TIMEOUT_SECONDS)  # fmt: skip
        self.orders = httpx.AsyncClient(base_url=env.need("orders_url"), timeout=5.0)
        shop.route("/checkout", methods=("POST",))(self.checkout)
        shop.on_stop.extend([self.payments.aclose, self.orders.aclose])

    async def _upstream(self, client: httpx.AsyncClient, name: str, path: str,
                        body: dict[str, Any]) -> httpx.Response | Response:  # fmt: skip
        try:
            return await client.post(path, json=body)
        except httpx.ConnectError as exc:
            self.log.error(f"upstream {name} connect failed: {_connect_reason(exc)}",
                           upstream=name)  # fmt: skip
            return JSONResponse({"error": f"{name} unreachable"}, status_code=502)
        except httpx.TimeoutException:
            self.log.error(f"upstream {name} timed out after {client.timeout.read}s",
                           upstream=name)  # fmt: skip
            return JSONResponse({"error": f"{name} timed out"}, status_code=504)
        except httpx.HTTPError as exc:
            self.log.error(f"upstream {name} failed: {exc}", upstream=name)
            return JSONResponse({"error": f"{name} failed"}, status_code=502)

    async def checkout(self, request: Request) -> Response:
        order = await request.json()
        quantity = int(order.get("quantity", 1))
        charged = await self._upstream(self.payments, PAYMENTS, "/charge",
                                       {"amount": 10 * quantity})  # fmt: skip
        if isinstance(charged, Response):
            return charged
        if charged.status_code != 200:
            self.log.error(f"upstream {PAYMENTS} answered {charged.status_code}", upstream=PAYMENTS)
            return JSONResponse({"error": "payment declined"}, status_code=502)
        payment_id = charged.json()["payment_id"]
        recorded = await self._upstream(self.orders, "orders", "/orders",
                                        {"sku": order.get("sku", "SKU-0001"),
                                         "quantity": quantity, "payment_id": payment_id})  # fmt: skip
        if isinstance(recorded, Response):
            return recorded
        if recorded.status_code != 201:
            self.log.error(f"upstream orders answered {recorded.status_code}", upstream="orders")
            return JSONResponse({"error": "order not recorded"}, status_code=502)
        return JSONResponse({"order": recorded.json(), "payment_id": payment_id}, status_code=201)


def main() -> None:
    shop = ShopApp(ShopEnv.read("checkout"))
    Checkout(shop)
    shop.run()
