"""report-worker: builds reports in memory. REPORT_WORKER_LEAK_MB_PER_S (default 0) makes it
keep every finished report's buffers, so its memory really grows at that rate (touched pages,
not a reservation) until the lab controller kills it at its memory limit.

With LAB_REPORTS_SPOOL it also builds the reports people drop into that folder's `new/`
(JSON with `report` and `megabytes`), each held in memory while it is built. A job is moved to
`processing/` while it runs and removed when done, so a worker killed mid-report takes the
same job up again when it restarts: a report larger than the memory limit is an OOM-kill
loop that only a larger limit (or removing the job) ends."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
from pathlib import Path

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


BUILD_STEP_MB = 8  # memory is taken a step at a time, so the limit is met while building
BUILD_STEP_SECONDS = 0.25  # slower than the kubelet's look at memory: it sees each step
WRITE_SECONDS = 3.0


class SpooledReports:
    def __init__(self, shop: ShopApp, spool: Path) -> None:
        self.shop = shop
        self.new, self.processing = spool / "new", spool / "processing"
        for folder in (self.new, self.processing):
            folder.mkdir(parents=True, exist_ok=True)
        shop.tasks.append(self.work_forever)

    def _next(self) -> Path | None:
        # a job left in processing was being built when this worker died
        for folder in (self.processing, self.new):
            jobs = sorted(folder.glob("*.json"))
            if jobs:
                if folder is self.processing:
                    return jobs[0]
                taken = self.processing / jobs[0].name
                jobs[0].rename(taken)
                return taken
        return None

    async def work_forever(self) -> None:
        while True:
            try:
                job = self._next()
            except OSError as exc:  # taken away meanwhile (dropped by a person)
                self.shop.log.warning("report spool changed under the worker", error=str(exc))
                job = None
            if job is None:
                await asyncio.sleep(TICK_SECONDS)
                continue
            await self.build(job)
            job.unlink(missing_ok=True)

    async def build(self, job: Path) -> None:
        try:
            spec = json.loads(await asyncio.to_thread(job.read_text))
        except (OSError, ValueError) as exc:
            self.shop.log.error("unreadable report job", job=job.name, error=str(exc))
            return
        name, megabytes = str(spec.get("report", "?")), int(spec.get("megabytes", 1))
        self.shop.log.info("building report", report=name, megabytes=megabytes)
        held: list[bytes] = []
        for _ in range(0, megabytes, BUILD_STEP_MB):
            held.append(b"r" * (BUILD_STEP_MB * MB))
            await asyncio.sleep(BUILD_STEP_SECONDS)
        await asyncio.sleep(WRITE_SECONDS)  # the whole report is held while it is written
        REPORTS.inc()
        self.shop.log.info("report built", report=name, megabytes=megabytes)
        del held


def main() -> None:
    env = ShopEnv.read("report-worker")
    shop = ShopApp(env)
    rate = float(os.environ.get("REPORT_WORKER_LEAK_MB_PER_S", "0") or 0)
    ReportWorker(shop, rate)
    if spool := os.environ.get("LAB_REPORTS_SPOOL"):
        SpooledReports(shop, Path(spool))
    if rate:
        shop.log.info("report cache retention enabled", leak_mb_per_s=rate)
    shop.run()
