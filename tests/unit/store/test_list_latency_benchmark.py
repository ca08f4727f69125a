"""benchmarks/list_latency.py runs, end to end, on a tiny store (the real numbers come from
running it at 100,000 incidents: docs/storage.md#measured)."""

from __future__ import annotations

import json

import pytest
from benchmarks import list_latency


def test_the_benchmark_measures_every_list_and_the_disk_per_escalated_incident() -> None:
    result = list_latency.run(incidents=300, rounds=3, escalated=1)

    assert set(result["latency_ms"]) == {
        "store.list_incidents(50)",
        "store.list_incidents(50, status=escalated)",
        "store.list_incidents(50, status=awaiting_approval)",
        "GET /api/v1/incidents?limit=50",
    }
    for ms in result["latency_ms"].values():
        assert 0 < ms["median"] <= ms["p95"]
    assert sum(result["statuses"].values()) == 300
    disk = result["disk_per_escalated"]
    assert disk["statuses"] == ["escalated"] and disk["compacted"] == 1
    assert disk["before"]["checkpoints.sqlite"] > 20_000, "a real run's checkpoints"
    assert disk["after"]["checkpoints.sqlite"] < disk["before"]["checkpoints.sqlite"] / 10


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--incidents", "60", "--rounds", "2", "--escalated", "0", "--no-http", "--json"]
    assert list_latency.main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["incidents"] == 60 and printed["disk_per_escalated"] is None
