"""report-worker: builds reports in memory. REPORT_WORKER_LEAK_MB_PER_S (default 0) makes it
keep every finished report's buffers, so its memory really grows at that rate (touched pages,
not a reservation) until the lab controller kills it at its memory limit."""

from __future__ import annotations

import asyncio
import os
import random
import statistics

from prometheus_client import Counter, Gauge

from firstline.lab.shop.app import ShopApp
from firstline.lab.shop.env import ShopEnv

TICK_SECONDS = 0.5
MB = 1024 * 1024
REPORTS = Counter("report_worker_reports_total", "Reports built")
RETAINED = Gauge("report_worker_retained_bytes", "Bytes of finished reports still held")


class ReportWorker:
    def __init__(self, shop: ShopApp, leak_mb_per_s: float) -> None:
        self.shop = shop
        self.leak_bytes_per_tick = int(leak_mb_per_s * MB * TICK_SECONDS)
        self.retained: list[bytes] = []  # the bug: finished reports are never let go
        shop.tasks.append(self.build_forever)

    async def build_forever(self) -> None:
        while True:
            sample = [random.random() for _ in range(2000)]
            report = f"mean={statistics.fmean(sample):.4f} sd={statistics.pstdev(sample):.4f}"
            REPORTS.inc()
            if self.leak_bytes_per_tick:
                # bytes * n writes every byte, so the pages are really resident (a bytearray
                # of zeros could stay unbacked)
                self.retained.append(report.encode()[:1] * self.leak_bytes_per_tick)
                RETAINED.set(len(self.retained) * self.leak_bytes_per_tick)
            await asyncio.sleep(TICK_SECONDS)


def main() -> None:
    env = ShopEnv.read("report-worker")
    shop = ShopApp(env)
    rate = float(os.environ.get("REPORT_WORKER_LEAK_MB_PER_S", "0") or 0)
    ReportWorker(shop, rate)
    if rate:
        shop.log.info("report cache retention enabled", leak_mb_per_s=rate)
    shop.run()
