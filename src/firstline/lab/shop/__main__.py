"""`python -m firstline.lab.shop SERVICE`: one shop process, configured by its environment."""

from __future__ import annotations

import importlib
import sys

SERVICES = {
    "storefront": "storefront",
    "catalog": "catalog",
    "checkout": "checkout",
    "orders": "orders",
    "payments": "payments",
    "order-events": "order_events",
    "report-worker": "report_worker",
    "loadgen": "loadgen",
}


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in SERVICES:
        raise SystemExit(f"usage: python -m firstline.lab.shop {{{'|'.join(SERVICES)}}}")
    importlib.import_module(f"firstline.lab.shop.{SERVICES[argv[0]]}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
