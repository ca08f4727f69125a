"""payments: the payment gateway the shop calls, outside the cluster. Its admin API listens on
LAB_ADMIN_PORT and its service port PORT is a relay to it, so fault `refuse` can close the
service port for real (connection refused) while the switch to reopen it stays reachable.
Fault `slow` delays every charge (3 s by default)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from firstline.lab.shop.app import ShopApp
from firstline.lab.shop.env import ShopEnv
from firstline.lab.shop.faults import FaultError, Flag
from firstline.lab.shop.relay import Relay


class Refuse:
    def __init__(self, relay: Relay | None) -> None:
        self.relay = relay

    async def switch(self, on: bool, params: dict[str, Any]) -> None:
        if self.relay is None:
            raise FaultError("refuse needs LAB_ADMIN_PORT (the admin API must outlive the port)")
        if params:
            raise FaultError(f"unknown parameters: {', '.join(sorted(params))}")
        await (self.relay.close() if on else self.relay.open())

    def state(self) -> dict[str, Any]:
        return {"on": self.relay is not None and not self.relay.is_open}


class Payments:
    def __init__(self, shop: ShopApp) -> None:
        env = shop.env
        self.slow = Flag(seconds=3.0)
        self.relay = None
        if env.admin_port is not None and env.port is not None:
            self.relay = Relay(env.port, env.admin_port)
            shop.on_start.append(self.relay.open)
            shop.on_stop.append(self.relay.close)
        shop.faults["refuse"] = Refuse(self.relay)
        shop.faults["slow"] = self.slow
        shop.route("/charge", methods=("POST",))(self.charge)

    async def charge(self, request: Request) -> Response:
        body = await request.json()
        if self.slow.on:
            await asyncio.sleep(self.slow.params["seconds"])
        return JSONResponse({"status": "approved", "payment_id": f"pay_{secrets.token_hex(6)}",
                             "amount": body.get("amount")})  # fmt: skip


def main() -> None:
    env = ShopEnv.read("payments")
    shop = ShopApp(env)
    Payments(shop)
    shop.run(port=env.admin_port)
