"""The store becomes unwritable for 10 s in the middle of an alert storm, then writable
again, under a running `firstline serve`; and while it is unwritable, every route that
writes answers 503 with Retry-After (the webhooks and the incident API alike).

The outage is real: `chattr +i` makes the SQLite file and its WAL immutable, so every write
fails with a disk I/O error (even for root, even through already open descriptors), as a
full or failing disk would. Senders retry what was not acknowledged, as Alertmanager does.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.integration.service.test_inprocess import (
    API,
    AS,
    BUNDLE,
    HOOK,
    _open_incident,
    _wait_status,
)
from tests.services.alert_storm import storm_alerts, webhook_batches
from tests.services.firstline_server import FirstlineServer, start_firstline
from tests.services.inprocess_server import serve_in_thread, settings_for
from tests.services.process import LOOPBACK

OUTAGE_SECONDS = 10.0
DEADLINE_SECONDS = 300.0

pytestmark = pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr (e2fsprogs)")


def _immutable(db: Path, on: bool) -> None:
    files = [p for p in (db, db.with_name(db.name + "-wal")) if p.exists()]
    subprocess.run(["chattr", "+i" if on else "-i", *map(str, files)], check=True)


async def _deliver_until_acknowledged(
    server: FirstlineServer, bodies: list[dict[str, object]], statuses: Counter[int]
) -> None:
    """Each body is retried until it gets a 2xx, after Retry-After (what a sender does)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(bodies)):
        queue.put_nowait(index)
    async with httpx.AsyncClient(timeout=60, headers=server.webhook_headers) as client:

        async def sender() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                while time.monotonic() < deadline:
                    answer = await client.post(
                        f"{server.url}/webhooks/alertmanager", json=bodies[index]
                    )
                    statuses[answer.status_code] += 1
                    if answer.status_code == 202:
                        break
                    await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
                else:
                    raise AssertionError(f"body {index} was never acknowledged")

        await asyncio.gather(*(sender() for _ in range(4)))


async def _outage(server: FirstlineServer, db: Path, readiness: list[int]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    async with httpx.AsyncClient(timeout=60) as client:
        while time.monotonic() < deadline:  # start once part of the storm is stored
            with sqlite3.connect(db) as con:
                if con.execute("SELECT count(*) FROM alerts").fetchone()[0] >= 300:
                    break
            await asyncio.sleep(0.05)
        _immutable(db, True)
        try:
            ends = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < ends:
                readiness.append((await client.get(f"{server.url}/readyz")).status_code)
                await asyncio.sleep(0.5)
        finally:
            _immutable(db, False)


def _wait_until_drained(db: Path) -> dict[str, int]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    states: dict[str, int] = {}
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as con:
            states = dict(con.execute("SELECT state, count(*) FROM work_queue GROUP BY state"))
        if not states.get("queued") and not states.get("running"):
            return states
        time.sleep(0.25)
    raise AssertionError(f"the queue never drained: {states}")


def _wait_ready(server: FirstlineServer) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if LOOPBACK.get(f"{server.url}/readyz", timeout=30).status_code == 200:
            return
        time.sleep(0.25)
    raise AssertionError("/readyz never became 200 again")


def test_a_ten_second_store_outage_mid_storm_loses_nothing_and_heals(tmp_path: Path) -> None:
    server = start_firstline(tmp_path, env={"FIRSTLINE_SERVE__WORKERS": "2"})
    db = server.data_dir / "incidents.sqlite"
    bodies = webhook_batches(storm_alerts(3_000, 30, prefix="outage"), 25)
    statuses: Counter[int] = Counter()
    readiness: list[int] = []

    async def storm() -> None:
        await asyncio.gather(
            _deliver_until_acknowledged(server, bodies, statuses), _outage(server, db, readiness)
        )

    try:
        asyncio.run(storm())
        assert 503 in readiness, (readiness, statuses)
        assert statuses[503] > 0, "deliveries during the outage were refused as unavailable"
        assert set(statuses) <= {202, 429, 503}, f"no other answer, no 5xx but 503: {statuses}"
        _wait_ready(server)  # without a restart
        states = _wait_until_drained(db)
        with sqlite3.connect(db) as con:
            stored, receipts = con.execute("SELECT count(*), sum(receipts) FROM alerts").fetchone()
            unfinished = con.execute(
                "SELECT count(*) FROM incidents WHERE status IN ('open', 'investigating')"
            ).fetchone()[0]
        assert stored == 3_000, "every alert was stored (each acknowledged exactly once)"
        assert receipts == 3_000
        assert unfinished == 0 and set(states) <= {"done", "paused"}, states
        metrics = LOOPBACK.get(f"{server.url}/metrics", timeout=30).text
        assert 'status="500"' not in metrics
        assert server.service.process is not None and server.service.process.poll() is None
    finally:
        _immutable(db, False)
        server.stop()


def test_an_unwritable_store_answers_503_with_retry_after_on_every_route_that_writes(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    db = settings.store.incidents_db
    with (
        serve_in_thread(settings, scenario=BUNDLE) as (url, _ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")
        _immutable(db, True)
        try:
            approve = client.post(
                f"/api/v1/incidents/{incident}/approve", json={}, headers=AS["ana"]
            )
            alert = json.loads((BUNDLE / "alert.json").read_text())  # a repeat: still a write
            hook = client.post("/webhooks/alertmanager", json=alert, headers=HOOK)
            ready = client.get("/readyz")
            read = client.get(f"/api/v1/incidents/{incident}", headers=API)
        finally:
            _immutable(db, False)
        for answer in (approve, hook):
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "2"
            assert answer.headers["content-type"] == "application/json"
            assert "the store is unavailable" in answer.json()["error"]
            assert "nothing was stored" in answer.json()["error"]
        assert ready.status_code == 503
        assert read.status_code == 200, "reads still work"
        assert read.json()["summary"]["status"] == "awaiting_approval", "nothing was decided"
        # writable again: the same request succeeds, no restart
        again = client.post(f"/api/v1/incidents/{incident}/approve", json={}, headers=AS["ana"])
        assert again.status_code == 200 and again.json()["status"] == "resolved", again.text
