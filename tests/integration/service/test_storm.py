"""An alert storm against a running `firstline serve`, and a kill -9 in the middle of one."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from tests.services.alert_storm import post_all, storm_alerts, webhook_batches
from tests.services.firstline_server import FirstlineServer, start_firstline
from tests.services.process import LOOPBACK


def _db(server: FirstlineServer) -> sqlite3.Connection:
    return sqlite3.connect(server.data_dir / "incidents.sqlite")


def _wait_until_drained(server: FirstlineServer, timeout: float = 120) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _db(server) as db:
            states = dict(db.execute("SELECT state, count(*) FROM work_queue GROUP BY state"))
        if not states.get("queued") and not states.get("running"):
            return states
        time.sleep(0.25)
    raise AssertionError(f"the queue never drained: {states}")


def _investigations(server: FirstlineServer) -> float:
    metrics = LOOPBACK.get(f"{server.url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("firstline_investigations_total{")
    )


def test_ten_thousand_alerts_in_fifty_groups_make_fifty_incidents(tmp_path: Path) -> None:
    server = start_firstline(tmp_path, env={"FIRSTLINE_SERVE__WORKERS": "4"})
    try:
        alerts = storm_alerts(10_000, 50)
        result = asyncio.run(
            post_all(f"{server.url}/webhooks/alertmanager", webhook_batches(alerts, 100),
                     headers=server.webhook_headers, concurrency=8)
        )  # fmt: skip
        assert result.errors == 0 and set(result.statuses) == {202}
        states = _wait_until_drained(server)
        with _db(server) as db:
            incidents = db.execute("SELECT count(*) FROM incidents").fetchone()[0]
            per_incident = db.execute("SELECT count(*) FROM alerts GROUP BY incident_id").fetchall()
            attempts = db.execute("SELECT attempts FROM work_queue").fetchall()
            stored, receipts = db.execute("SELECT count(*), sum(receipts) FROM alerts").fetchone()
        assert incidents == 50
        assert sorted(n for (n,) in per_incident) == [200] * 50
        assert stored == receipts == 10_000, "every alert stored exactly once"
        assert [a for (a,) in attempts] == [1] * 50, "each incident investigated exactly once"
        assert sum(states.values()) == 50
        assert _investigations(server) == 50
    finally:
        server.stop()


def test_kill_9_mid_storm_loses_no_acknowledged_alert_and_resumes_the_queue(
    tmp_path: Path,
) -> None:
    # one slow-ish worker keeps a backlog of queued investigations at the moment of the kill
    env = {"FIRSTLINE_SERVE__WORKERS": "1"}
    server = start_firstline(tmp_path, env=env)
    alerts = storm_alerts(6_000, 60, prefix="crash")
    batches = webhook_batches(alerts, 50)

    async def storm_then_kill() -> list[int]:
        posting = asyncio.create_task(
            post_all(f"{server.url}/webhooks/alertmanager", batches,
                     headers=server.webhook_headers, concurrency=4)
        )  # fmt: skip
        while True:  # kill once a good part of the storm has been acknowledged
            await asyncio.sleep(0.05)
            with _db(server) as db:
                if db.execute("SELECT count(*) FROM alerts").fetchone()[0] >= 2_000:
                    break
        server.kill_hard()
        return (await posting).acknowledged

    acknowledged = asyncio.run(storm_then_kill())
    assert 0 < len(acknowledged) < len(batches), "the kill landed in the middle of the storm"
    with _db(server) as db:
        stored = {
            row[0] for row in db.execute("SELECT json_extract(alert, '$.labels.pod') FROM alerts")
        }
        backlog = dict(db.execute("SELECT state, count(*) FROM work_queue GROUP BY state"))
    acked_pods = {a["labels"]["pod"] for i in acknowledged for a in batches[i]["alerts"]}
    assert acked_pods <= stored, f"{len(acked_pods - stored)} acknowledged alerts lost"
    assert backlog.get("queued", 0) + backlog.get("running", 0) > 0, "work was left queued"

    restarted = start_firstline(tmp_path, data_dir=server.data_dir, env=env, name="restarted")
    try:
        states = _wait_until_drained(restarted)
        with _db(restarted) as db:
            never_run = db.execute("SELECT count(*) FROM work_queue WHERE attempts = 0").fetchone()[
                0
            ]
            incidents = db.execute("SELECT count(*) FROM incidents").fetchone()[0]
        assert never_run == 0, "every queued investigation ran after the restart"
        assert sum(states.values()) == incidents
        assert _investigations(restarted) >= backlog.get("queued", 0)
    finally:
        restarted.stop()
