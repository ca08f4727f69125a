"""`firstline store compact` from the command line, on a real store."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firstline.cli.main import app
from firstline.domain.incident import IncidentStatus
from tests.unit.store.test_retention import world_in


async def _store(data: Path) -> tuple[str, str]:
    async with world_in(data) as w:
        old = w.incident(IncidentStatus.RESOLVED)
        waiting = w.incident(IncidentStatus.AWAITING_APPROVAL)
        for incident in (old, waiting):
            await w.checkpoints(incident, count=3, size=30_000)
    return old, waiting


def _incidents(data: Path) -> set[str]:
    with sqlite3.connect(data / "incidents.sqlite") as db:
        return {r[0] for r in db.execute("SELECT id FROM incidents")}


def test_dry_run_then_compact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, waiting = asyncio.run(_store(tmp_path))
    monkeypatch.setenv("FIRSTLINE_STORE__RETENTION_DAYS", "30")
    cli = CliRunner()
    base = ["--data-dir", str(tmp_path), "store", "compact"]

    dry = cli.invoke(app, [*base, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "checkpoints of finished runs would be deleted: 1" in dry.output
    assert "incidents over for 30 days would be deleted: 1" in dry.output
    assert "dry run: nothing was changed" in dry.output
    assert _incidents(tmp_path) == {old, waiting}

    done = cli.invoke(app, [*base, "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["checkpoints_deleted"] == [old] and report["incidents_deleted"] == [old]
    assert report["audit_records_kept"] == 1
    assert report["bytes_reclaimed"] > 3 * 30_000 * 0.8, report["space"]
    assert _incidents(tmp_path) == {waiting}


def test_no_store_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "none"), "store", "compact"])
    assert result.exit_code == 2
    assert result.output.startswith("error: no incident store at ")
