"""On PostgreSQL one `firstline serve` stores deliveries of different groups at the same
time: a delivery waiting for its group's lock (another replica storing the same group, here
a connection of the test holding that lock) does not hold up a delivery of another group.
With one ingest thread, as on SQLite, every delivery queued behind the waiting one; the
replica's ingest was then bound by one network round trip after another (1,100 alerts/s
against 3,300 with several writers, benchmarks/scale.py).

Real processes: a real PostgreSQL 15 and a real `firstline serve` over loopback HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg

from firstline.intake.grouping import group_key
from firstline.intake.registry import PARSERS
from firstline.service.settings import ServeSettings
from firstline.store.intake import group_lock_key
from firstline.store.postgres import LOCK_SPACE, advisory_buckets
from tests.services.alert_storm import webhook_batches
from tests.services.postgres import PostgresCluster
from tests.services.replicas import new_database, query, start_replicas, wait_until

GROUP_BY = ServeSettings().group_by


def _alert(service: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "namespace": "shop", "service": service},
        "annotations": {"summary": f"errors on {service}"},
        "startsAt": "2026-12-02T10:00:00Z",
    }


def _buckets(service: str) -> list[int]:
    """The advisory locks a delivery of this service's alert waits for (the real parser's
    alert, the default grouping)."""
    (body,) = webhook_batches([_alert(service)], 1)
    (alert,) = PARSERS["alertmanager"](body)
    return advisory_buckets([group_lock_key(group_key(alert, GROUP_BY))])


def _waiting_on_advisory_lock(url: str) -> bool:
    rows = query(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'",
    )
    return int(rows[0]["n"]) > 0


def test_a_delivery_waiting_on_its_group_does_not_hold_up_another_group(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = new_database(postgres_cluster)
    (server,) = start_replicas(tmp_path, 1, env={"FIRSTLINE_STORE__URL": url})
    blocked = _buckets("checkout")
    other = next(s for s in (f"svc-{n}" for n in range(1000)) if _buckets(s) != blocked)
    (held_body,) = webhook_batches([_alert("checkout")], 1)
    (free_body,) = webhook_batches([_alert(other)], 1)
    endpoint = f"{server.url}/webhooks/alertmanager"
    try:
        with (
            psycopg.connect(url, autocommit=False) as holder,
            ThreadPoolExecutor(1) as sender,
            httpx.Client(headers=server.webhook_headers, timeout=60) as client,
        ):
            holder.execute(
                "SELECT pg_advisory_xact_lock(%s, b) FROM unnest(%s::int[]) AS b",
                (LOCK_SPACE, blocked),
            )
            held = sender.submit(client.post, endpoint, json=held_body)
            wait_until(lambda: _waiting_on_advisory_lock(url), "the delivery waits", 60)

            began = time.monotonic()
            answer = client.post(endpoint, json=free_body)
            took = time.monotonic() - began
            still_waiting = not held.done()
            holder.rollback()  # releases the group's lock
            held_answer = held.result(timeout=60)
    finally:
        server.stop()

    assert answer.status_code == 202, answer.text
    assert still_waiting, (
        f"the other group's delivery was answered only after the waiting one ({took:.1f}s)"
    )
    # the waiting delivery is stored once its lock is free, or refused whole (lock timeout)
    assert held_answer.status_code in (202, 429), held_answer.text
    stored = query(url, "SELECT alert::json -> 'labels' ->> 'service' AS s FROM alerts")
    services = sorted(r["s"] for r in stored)
    expected = sorted([other, "checkout"] if held_answer.status_code == 202 else [other])
    assert services == expected
