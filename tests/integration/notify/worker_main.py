"""A delivery worker in its own process, as `firstline serve` would run it.

    python -m tests.integration.notify.worker_main DB SETTINGS_JSON (serve|drain)

serve: deliver until SIGTERM, then finish the round in hand and exit 0 (a clean restart).
drain: deliver until nothing is pending, then exit 0 (1 if time ran out).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from firstline.delivery.setup import build_delivery
from firstline.notify.settings import VendorSettings


async def main(db: Path, settings_json: str, mode: str) -> int:
    settings = VendorSettings.model_validate_json(settings_json)
    delivery = build_delivery(settings, db, lambda: datetime.now(UTC))
    if mode == "drain":
        return 0 if await delivery.worker.drain(within_seconds=60) else 1
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("worker running", flush=True)
    await delivery.worker.run_forever(stop)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3])))
