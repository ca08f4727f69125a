"""The split shape on PostgreSQL: `firstline serve --no-workers` takes alerts and a person's
decision, `firstline worker` investigates and acts. The approval through serve's API is
recorded there and handed to the worker through the queue, so the action runs in the
worker's process, once, under the worker's lease: intake never needs the credentials that
actions use.

What is real: PostgreSQL 15, both firstline processes (HTTP over loopback), the runbook
script the approved action executes (a real child process; it writes its parent's pid, the
process that acted, beside its idempotency key). What is a stand-in: the diagnosis, a user
pattern (patterns/runbook_drain.py) that explains the alert from its labels alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.scale.runbooks import install_drain
from tests.services.alert_storm import webhook_batches
from tests.services.firstline_server import API_TOKEN, FirstlineServer, start_firstline
from tests.services.postgres import PostgresCluster
from tests.services.process import free_port
from tests.services.replicas import new_database, query, wait_until

pytestmark = pytest.mark.integration

PATTERNS = Path(__file__).parent / "patterns"
# the effect names the process that ran the action: the script's parent
DRAIN = """#!/bin/sh
printf '%s %s\\n' "$FIRSTLINE_ACTION_KEY" "$PPID" >> {effects}
"""
DRAIN_CHECK = """#!/bin/sh
grep -q "^$FIRSTLINE_ACTION_KEY " {effects}
"""


def _pid(server: FirstlineServer) -> int:
    assert server.service.process is not None
    return server.service.process.pid


@pytest.fixture
def split(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> Iterator[tuple[FirstlineServer, FirstlineServer, str, Path]]:
    runbooks, effects = install_drain(tmp_path, DRAIN, DRAIN_CHECK)
    policy = tmp_path / "policy.yaml"
    policy.write_text("mode: approve\n")  # every action waits for a person
    url = new_database(postgres_cluster)
    env = {
        "FIRSTLINE_STORE__URL": url,
        "FIRSTLINE_POLICY_FILE": str(policy),
        "FIRSTLINE_PATTERNS_DIR": str(PATTERNS),
        "FIRSTLINE_ACTIONS__SCRIPTS__ENABLED": "true",
        "FIRSTLINE_ACTIONS__SCRIPTS__DIRECTORY": str(runbooks),
        "FIRSTLINE_GRAPH__MAX_VERIFY_ATTEMPTS": "1",
        "FIRSTLINE_NOTIFY__CONSOLE": "false",
    }
    serve = start_firstline(
        tmp_path, data_dir=tmp_path / "serve", env=env, name="serve",
        command=("serve", "--no-workers"),
    )  # fmt: skip
    try:
        port = free_port()  # `worker` listens on --port (default 8081), not serve.port
        worker = start_firstline(
            tmp_path, data_dir=tmp_path / "worker", env=env, name="worker", port=port,
            command=("worker", "--port", str(port)),
        )  # fmt: skip
        try:
            yield serve, worker, url, effects
        finally:
            worker.stop()
    finally:
        serve.stop()


def _alert() -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": "QueueBacklog", "namespace": "shop", "service": "orders",
                   "runbook": "drain-queue", "severity": "warning"},
        "annotations": {"summary": "orders queue is backed up"},
        "startsAt": "2026-12-02T10:00:00Z",
    }  # fmt: skip


def test_an_approval_through_serve_is_carried_out_by_the_worker_once(
    split: tuple[FirstlineServer, FirstlineServer, str, Path],
) -> None:
    serve, worker, url, effects = split
    with serve.client() as client:
        (body,) = webhook_batches([_alert()], 1)
        posted = client.post("/webhooks/alertmanager", json=body, headers=serve.webhook_headers)
        assert posted.status_code == 202, posted.text
        (row,) = wait_until(
            lambda: query(url, "SELECT incident_id FROM work_queue WHERE state = 'paused'"),
            "the worker investigated and asked for approval", 120,
        )  # fmt: skip
        incident = row["incident_id"]
        assert not effects.exists(), "nothing acted before the approval"

        answer = client.post(
            f"/api/v1/incidents/{incident}/approve",
            json={"comment": "go"},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )
        assert answer.status_code == 200, answer.text
        decided = answer.json()
        assert decided["resumed"] is False, "serve has no workers: it must not resume the run"
        assert "approved by ana" in decided["message"]

        wait_until(
            lambda: query(
                url, "SELECT 1 FROM work_queue WHERE incident_id = %s AND state = 'done'",
                (incident,),
            ),
            "the worker resumed the run to its end", 120,
        )  # fmt: skip
        late = client.post(
            f"/api/v1/incidents/{incident}/approve", json={},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )  # fmt: skip
        assert late.status_code == 409, "the first decision wins"

    lines = effects.read_text().splitlines()
    assert len(lines) == 1, f"the approved action ran exactly once: {lines}"
    assert int(lines[0].split()[1]) == _pid(worker), "the worker acted, not serve"
    audit = query(
        url,
        "SELECT actor FROM audit WHERE incident_id = %s AND kind = 'approval'",
        (incident,),
    )
    assert [r["actor"] for r in audit] == ["ana"]
