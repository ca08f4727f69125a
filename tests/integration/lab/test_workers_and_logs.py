"""The two workers (order-events' crash loop on bad config, report-worker's real memory
growth) and the logs every shop process pushes to Loki's push API, read back from the
suite's Loki-API server (qryn) by their stream labels."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.lab.shop import REPO, ShopProcesses, wait_for
from tests.services.loki import LokiServer
from tests.services.process import free_port

pytestmark = pytest.mark.integration


def run_once(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in __import__("os").environ.items()
            if key in ("PATH", "PYTHONPATH")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "firstline.lab.shop", service], env={**base, **env}, cwd=REPO,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("value", ["fifty", "0"])
def test_order_events_exits_1_on_an_invalid_batch_size(value: str) -> None:
    done = run_once("order-events", {"ORDER_EVENTS_BATCH_SIZE": value, "PORT": str(free_port())})
    assert done.returncode == 1
    assert f"invalid configuration: ORDER_EVENTS_BATCH_SIZE={value}" in done.stdout


def test_order_events_processes_new_orders_in_batches(
    shop_processes: ShopProcesses, shop_dsn: str
) -> None:
    worker = shop_processes.start("order-events", {"LAB_PG_DSN": shop_dsn,
                                                   "ORDER_EVENTS_BATCH_SIZE": "2"})  # fmt: skip

    def unprocessed() -> int | None:
        with psycopg.connect(shop_dsn, autocommit=True) as conn:
            try:
                row = conn.execute(
                    "SELECT count(*) FROM orders WHERE processed_at IS NULL"
                ).fetchone()
            except psycopg.errors.UndefinedTable:
                return None
        return int(row[0]) if row else None

    wait_for(lambda: unprocessed() is not None, "the worker creating the schema")
    with psycopg.connect(shop_dsn, autocommit=True) as conn:
        for number in range(5):
            conn.execute("INSERT INTO orders (sku, quantity) VALUES (%s, 1)", (f"SKU-{number}",))
    wait_for(lambda: unprocessed() == 0, "all five orders processed")
    assert worker.service.process is not None and worker.service.process.poll() is None


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_report_worker_leaks_real_memory_at_the_configured_rate(
    shop_processes: ShopProcesses,
) -> None:
    worker = shop_processes.start("report-worker", {"REPORT_WORKER_LEAK_MB_PER_S": "40"})
    assert worker.service.process is not None
    pid = worker.service.process.pid
    start = rss_mb(pid)
    wait_for(lambda: rss_mb(pid) > start + 60, "RSS 60 MB above its start", timeout=30)
    body = httpx.get(f"{worker.url}/metrics", timeout=10).text
    retained = {sample.name: sample.value for family in text_string_to_metric_families(body)
                for sample in family.samples}  # fmt: skip
    assert retained["report_worker_retained_bytes"] >= 60 * 1024 * 1024


def test_logs_reach_loki_with_namespace_service_pod_and_level(
    shop_processes: ShopProcesses, loki: LokiServer
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    admin = free_port()
    payments = shop_processes.start("payments", {"LAB_LOKI_URL": loki.url,
                                                 "LAB_ADMIN_PORT": str(admin)},
                                    name="payments-loki", ready_port=admin)  # fmt: skip
    payments.fault("slow", seconds=1)
    crashed = run_once("order-events", {"ORDER_EVENTS_BATCH_SIZE": "x", "LAB_LOKI_URL": loki.url,
                                        "POD_NAME": "order-events-7f9c-x2", "PORT": "0"})  # fmt: skip
    assert crashed.returncode == 1
    until = datetime.now(UTC) + timedelta(minutes=1)
    loki.wait_for_lines('{namespace="shop", service="payments", pod="payments-loki-test", '
                        'level="warning"} |= "fault slow switched on"', since, until, 1)  # fmt: skip
    loki.wait_for_lines('{namespace="shop", service="payments", level="info"} |= "started"',
                        since, until, 1)  # fmt: skip
    # the crash loop's last words arrive although the process exited right after them
    loki.wait_for_lines('{service="order-events", pod="order-events-7f9c-x2", level="error"} '
                        '|= "invalid configuration: ORDER_EVENTS_BATCH_SIZE=x"', since, until, 1)  # fmt: skip


@pytest.fixture
def silent_loki() -> Iterator[int]:
    """A port that accepts connections and never answers: the slowest Loki there is."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_a_stalled_loki_never_slows_requests_and_lines_are_dropped_and_counted(
    shop_processes: ShopProcesses, silent_loki: int
) -> None:
    admin = free_port()
    payments = shop_processes.start("payments", {
        "LAB_LOKI_URL": f"http://127.0.0.1:{silent_loki}", "LAB_ADMIN_PORT": str(admin),
    }, name="payments-stalled-loki", ready_port=admin)  # fmt: skip
    slowest = 0.0
    for _ in range(20):
        began = time.perf_counter()
        assert httpx.post(f"{payments.url}/charge", json={"amount": 1}).status_code == 200
        slowest = max(slowest, time.perf_counter() - began)
    assert slowest < 0.5

    def dropped() -> float:
        body = httpx.get(f"{payments.admin}/metrics", timeout=10).text
        return sum(sample.value for family in text_string_to_metric_families(body)
                   for sample in family.samples
                   if sample.name == "shop_log_lines_dropped_total")  # fmt: skip

    wait_for(lambda: dropped() > 0, "lines dropped after a push timed out")
