"""The shop's services and their fault switches, each a real process, against a real
PostgreSQL and a real Redis configured as the lab's (32 MB, noeviction)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from pydantic import SecretStr

from firstline.actions.catalog import make_action
from firstline.actions.postgres_sessions import PostgresSessionExecutor
from firstline.actions.redis_cache import RedisCacheExecutor
from firstline.actions.settings import PostgresActionSettings, RedisActionSettings
from firstline.domain.action import ActionType, Target
from tests.integration.lab.shop import ShopProcess, ShopProcesses, wait_for
from tests.services.postgres import PostgresCluster
from tests.services.process import free_port

pytestmark = pytest.mark.integration


@dataclass
class Shop:
    dsn: str
    catalog: ShopProcess
    orders: ShopProcess
    payments: ShopProcess
    checkout: ShopProcess
    storefront: ShopProcess


@pytest.fixture(scope="module")
def shop(shop_processes: ShopProcesses, shop_dsn: str, lab_redis: str) -> Iterator[Shop]:
    prepare = shop_processes.prepare
    catalog = prepare("catalog", {"LAB_PG_DSN": shop_dsn, "LAB_RELEASE": "1.4.2"})
    orders = prepare("orders", {"LAB_PG_DSN": shop_dsn, "ORDERS_POOL_SIZE": "6",
                                "ORDERS_POOL_TIMEOUT_SECONDS": "0.5"})  # fmt: skip
    admin = free_port()
    payments = prepare("payments", {"LAB_ADMIN_PORT": str(admin)}, ready_port=admin)
    checkout = prepare("checkout", {"LAB_PAYMENTS_URL": payments.url,
                                    "LAB_ORDERS_URL": orders.url})  # fmt: skip
    storefront = prepare("storefront", {"LAB_REDIS_URL": lab_redis,
                                        "LAB_CATALOG_URL": catalog.url})  # fmt: skip
    shop_processes.start_together(catalog, orders, payments, checkout, storefront)
    yield Shop(shop_dsn, catalog, orders, payments, checkout, storefront)


def idle_in_transaction(dsn: str, for_seconds: float = 0) -> list[int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'orders' AND state = 'idle in transaction'"
            " AND now() - state_change > make_interval(secs => %s)",
            (for_seconds,),
        ).fetchall()
    return [row[0] for row in rows]


def terminate_idle_orders_sessions(postgres_cluster: PostgresCluster, dsn: str) -> list[int]:
    """firstline's own terminate_db_connections, connected as an administrator; returns the
    pids it ended."""
    database = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    settings = PostgresActionSettings(
        enabled=True, min_idle_in_transaction_seconds=0,
        targets={"shop/orders-db": SecretStr(postgres_cluster.dsn(dbname=str(database)))},
    )  # fmt: skip
    action = make_action(ActionType.TERMINATE_DB_CONNECTIONS,
                         Target(kind="database", namespace="shop", name="orders-db"),
                         rationale="lab", parameters={"idle_in_transaction_seconds": 1,
                                                      "application_name": "orders"})  # fmt: skip

    async def run() -> list[int]:
        executor = PostgresSessionExecutor(settings)
        assert (await executor.preflight(action)).ok
        outcome = await executor.execute(action, "lab-key")
        assert outcome.ok, outcome.detail
        return [int(pid) for pid in outcome.report["pids"]]

    return asyncio.run(run())


def place_order(shop: Shop) -> httpx.Response:
    return httpx.post(f"{shop.orders.url}/orders", json={"sku": "SKU-0001", "quantity": 1},
                      timeout=10)  # fmt: skip


def test_connection_leak_holds_sessions_idle_in_transaction_until_the_server_ends_them(
    shop: Shop, postgres_cluster: PostgresCluster
) -> None:
    assert place_order(shop).status_code == 201
    state = shop.orders.fault("connection-leak", sessions=3)
    assert state["leaked"] == 3
    assert len(idle_in_transaction(shop.dsn)) == 3
    assert place_order(shop).status_code == 201  # three of six: the pool still serves
    leaked = wait_for(lambda: (pids := idle_in_transaction(shop.dsn, 1)) and len(pids) == 3
                      and pids, "3 orders sessions idle in transaction for over a second")  # fmt: skip

    assert sorted(terminate_idle_orders_sessions(postgres_cluster, shop.dsn)) == sorted(leaked)
    wait_for(lambda: shop.orders.faults()["connection-leak"]["terminated"] == 3,
             "orders noticing the three terminations")  # fmt: skip
    assert shop.orders.faults()["connection-leak"] == {"on": False, "leaked": 0, "terminated": 3}
    assert len(shop.orders.logged("terminated by the server")) == 3
    # the burst is over: new orders go through fresh pooled connections and none is left open
    assert place_order(shop).status_code == 201
    assert idle_in_transaction(shop.dsn) == []


def test_a_leak_of_the_whole_pool_starves_orders_until_it_is_released(shop: Shop) -> None:
    assert shop.orders.fault("connection-leak", sessions=6)["leaked"] == 6
    starved = place_order(shop)
    assert starved.status_code == 503
    assert shop.orders.logged("database pool exhausted")
    shop.orders.fault("connection-leak", on=False)
    assert place_order(shop).status_code == 201
    assert idle_in_transaction(shop.dsn) == []


def get_page(shop: Shop, path: str = "/", session: str | None = None) -> httpx.Response:
    cookies = {"session": session} if session else None
    return httpx.get(f"{shop.storefront.url}{path}", cookies=cookies, timeout=10)


def clear_cache(redis_url: str, pattern: str) -> int:
    """firstline's own clear_cache (SCAN in small steps, UNLINK in batches, never a flush);
    returns the keys it removed."""
    settings = RedisActionSettings(enabled=True, targets={"shop/redis": SecretStr(redis_url)},
                                   max_keys=50_000)  # fmt: skip
    action = make_action(ActionType.CLEAR_CACHE, Target(kind="cache", namespace="shop",
                         name="redis"), rationale="lab", parameters={"pattern": pattern})  # fmt: skip

    async def run() -> int:
        executor = RedisCacheExecutor(settings)
        assert (await executor.preflight(action)).ok
        outcome = await executor.execute(action, "lab-key")
        assert outcome.ok, outcome.detail
        return int(outcome.report["keys_removed"])

    return asyncio.run(run())


def test_cache_runaway_fills_redis_to_maxmemory_and_clearing_cache_keys_restores_service(
    shop: Shop, redis_client: redis.Redis, lab_redis: str
) -> None:
    first = get_page(shop)
    assert first.status_code == 200
    session = first.cookies["session"]
    assert redis_client.exists(f"session:{session}")
    assert redis_client.ttl("cache:page:/") > 0  # pages are cached with a TTL
    sessions_before = len(list(redis_client.scan_iter(match="session:*")))

    shop.storefront.fault("cache-runaway")
    state = wait_for(lambda: (s := shop.storefront.faults()["cache-runaway"])["stopped_by"] and s,
                     "the warm-up burst to stop")  # fmt: skip
    assert state["stopped_by"] == "maxmemory"
    info = redis_client.info("memory")
    assert info["used_memory"] >= info["maxmemory"] > 0
    with pytest.raises(redis.exceptions.OutOfMemoryError):  # Redis's own refusal
        redis_client.set("probe", "x")
    assert redis_client.ttl(next(redis_client.scan_iter(match="cache:page:/warmup/*"))) == -1

    assert get_page(shop).status_code == 503  # a new visitor needs a session write
    assert get_page(shop, "/products/3", session).status_code == 200  # served uncached
    assert shop.storefront.logged("OOM command not allowed when used memory > 'maxmemory'")

    assert clear_cache(lab_redis, "cache:*") >= state["keys_written"]
    recovered = get_page(shop)
    assert recovered.status_code == 200
    assert redis_client.exists(f"session:{recovered.cookies['session']}")
    assert len(list(redis_client.scan_iter(match="session:*"))) == sessions_before + 1
    assert redis_client.exists(f"session:{session}")


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def checkout(shop: Shop) -> httpx.Response:
    return httpx.post(f"{shop.checkout.url}/checkout", json={"sku": "SKU-0002", "quantity": 2},
                      timeout=10)  # fmt: skip


def test_checkout_answers_502_when_payments_refuses_and_504_when_it_stalls(shop: Shop) -> None:
    assert checkout(shop).status_code == 201
    shop.payments.fault("refuse")
    assert refused(shop.payments.port)
    assert checkout(shop).status_code == 502
    assert shop.checkout.logged("upstream payments-gateway connect failed: connection refused")

    shop.payments.fault("refuse", on=False)
    assert not refused(shop.payments.port)
    assert checkout(shop).status_code == 201

    shop.payments.fault("slow", seconds=3)
    assert checkout(shop).status_code == 504
    assert shop.checkout.logged("upstream payments-gateway timed out")
    shop.payments.fault("slow", on=False)
    assert checkout(shop).status_code == 201
    assert shop.checkout.requests_total(code="502", method="POST", handler="/checkout") == 1
    assert shop.checkout.requests_total(code="504", method="POST", handler="/checkout") == 1


def error_ratio(catalog: ShopProcess) -> float:
    codes = [httpx.get(f"{catalog.url}/products/{i}", timeout=10).status_code
             for i in range(1, 21)]  # fmt: skip
    assert set(codes) <= {200, 500}
    return codes.count(500) / len(codes)


def test_catalog_release_1_5_0_fails_a_share_of_product_requests_and_1_4_2_none(
    shop: Shop, shop_processes: ShopProcesses
) -> None:
    bad = shop_processes.start("catalog", {"LAB_PG_DSN": shop.dsn, "LAB_RELEASE": "1.5.0"},
                               name="catalog-1-5-0")  # fmt: skip
    assert error_ratio(shop.catalog) == 0
    ratio = error_ratio(bad)
    assert 0.2 <= ratio <= 0.6
    assert bad.logged("KeyError: 'discount'")
    assert bad.requests_total(code="500", handler="/products/{product_id}") == ratio * 20
    assert shop.catalog.requests_total(code="500") == 0


def test_admin_api_refuses_unknown_faults_and_bad_parameters(shop: Shop) -> None:
    unknown = httpx.post(f"{shop.orders.url}/admin/faults/nope", json={"on": True})
    assert unknown.status_code == 404
    bad = httpx.post(f"{shop.orders.url}/admin/faults/connection-leak",
                     json={"on": True, "sessions": "many"})  # fmt: skip
    assert bad.status_code == 400
    assert httpx.post(f"{shop.payments.admin}/admin/faults/slow", json={}).status_code == 400
    assert idle_in_transaction(shop.dsn) == []


def served(shop: Shop) -> dict[str, float]:
    return {name: getattr(shop, name).requests_total()
            for name in ("storefront", "catalog", "orders", "checkout", "payments")}  # fmt: skip


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_load_generator_gives_every_service_a_request_rate(
    shop: Shop, shop_processes: ShopProcesses
) -> None:
    before = served(shop)
    load = shop_processes.prepare(
        "loadgen",
        {
            "LAB_STOREFRONT_URL": shop.storefront.url,
            "LAB_CATALOG_URL": shop.catalog.url,
            "LAB_CHECKOUT_URL": shop.checkout.url,
            "LAB_ORDERS_URL": shop.orders.url,
            "LAB_LOAD_RPS": "20",
        },
        ready=lambda: True,  # it has no HTTP side: its traffic is the proof
    )
    shop_processes.start_together(load)
    wait_for(lambda: all(after > before[name] for name, after in served(shop).items()),
             "requests reaching every service", timeout=60)  # fmt: skip
    assert load.service.process is not None
    assert cpu_seconds(load.service.process.pid) < 10
    load.service.stop()
