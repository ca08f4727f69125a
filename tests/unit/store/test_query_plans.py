"""Every list the API and the CLI serve is answered from an index: the statements the stores
really execute are captured and run through EXPLAIN QUERY PLAN on a real SQLite file. A
full SCAN of a table, or a sort of the result in a temporary B-tree, fails the test."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from firstline.domain.alert import Severity
from firstline.domain.incident import IncidentStatus, TimelineEntry
from firstline.store.action_log import ActionLog
from firstline.store.audit import AuditKind, AuditLog
from firstline.store.filters import ListFilters
from firstline.store.incidents import IncidentStore
from firstline.store.intake import IntakeStore
from firstline.store.outbox import Outbox
from tests.unit import builders
from tests.unit.store.seed import T0, ingest_incidents

TABLES = ("incidents", "timeline", "approvals", "alerts", "outbox", "audit", "actions")


@contextmanager
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SELECTs the stores execute, with their parameters bound (expanded SQL)."""
    statements: list[str] = []
    real = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = real(*args, **kwargs)
        db.set_trace_callback(statements.append)
        return db

    with monkeypatch.context() as patch:
        patch.setattr(sqlite3, "connect", connect)
        yield statements


def _full_scan(step: str, statement: str) -> bool:
    """A table read row by row; walking an index in order is fine where a LIMIT stops it."""
    if not any(step.startswith(f"SCAN {t}") for t in TABLES):
        return False
    return "USING" not in step or " LIMIT " not in statement


def plan(path: Path, statement: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement)]


class Stores:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.intake = IntakeStore(path)
        self.incidents = IncidentStore(path)
        self.outbox = Outbox(path)
        self.audit = AuditLog(path)
        self.ledger = ActionLog(path)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    s = Stores(tmp_path_factory.mktemp("plans") / "incidents.sqlite")
    ids = ingest_incidents(s.intake, 120)
    action = builders.action()
    for n, incident in enumerate(ids):
        s.incidents.update(incident, status=list(IncidentStatus)[n % len(IncidentStatus)])
        s.incidents.append_timeline(
            incident,
            [TimelineEntry(key=f"k{k}", at=T0, stage="triage", event="e") for k in range(3)],
        )
        s.incidents.open_approval(incident, 1, T0, T0 + timedelta(minutes=n))
        s.outbox.enqueue(incident_id=incident, notifier="slack", event_key="opened",
                         kind="trigger", dedup_key=incident, payload="{}", now=T0)  # fmt: skip
        s.audit.append(incident, AuditKind.DECISION, {"n": n})
        s.ledger.begin_action(f"{incident}:1:0", incident, action)
    with sqlite3.connect(s.path) as db:
        db.execute("ANALYZE")  # the planner sees realistic statistics, as after a while in use
    return s


LISTS: dict[str, Callable[[Stores, str], object]] = {
    "incidents newest first": lambda s, _: s.incidents.list_incidents(50),
    "incidents of a status": lambda s, _: s.incidents.list_incidents(50, IncidentStatus.ESCALATED),
    "incidents filtered (the console)": lambda s, _: s.incidents.list_incidents(
        50,
        IncidentStatus.ESCALATED,
        ListFilters(severity=Severity.HIGH, service="svc-3", since=T0, before=datetime.now(UTC)),
    ),
    "incidents of a service": lambda s, _: s.incidents.list_incidents(
        50, None, ListFilters(service="svc-3")
    ),
    "incident summary": lambda s, i: s.incidents.summary(i),
    "incident by the start of its id": lambda s, i: s.incidents.ids_with_prefix(i[:6]),
    "timeline": lambda s, i: s.incidents.timeline(i),
    "pending approvals": lambda s, _: s.incidents.pending_approvals(),
    "outbox of an incident": lambda s, i: s.outbox.rows(i),
    "audit of an incident": lambda s, i: s.audit.records(i),
    "ledger of an incident": lambda s, i: s.ledger.entries(i),
    "ledger since (rate limits)": lambda s, _: s.ledger.started_since(datetime.now(UTC)),
    "alerts of an incident": lambda s, i: s.intake.alerts_of(i),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_each_list_is_served_by_an_index(
    stores: Stores, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = stores.incidents.list_incidents(1)[0].id
    stores.intake.close()  # the intake store's connection reopens through the patched connect
    with captured(monkeypatch) as statements:
        LISTS[name](stores, incident)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects, "the call ran a query"
    for statement in selects:
        steps = plan(stores.path, statement)
        assert not [s for s in steps if _full_scan(s, statement)], (statement, steps)
        assert not [s for s in steps if "TEMP B-TREE" in s], (statement, steps)
        if "FROM incidents" in statement:
            assert "snapshot" not in statement and "*" not in statement, statement


LIST_INDEX_NAMES = {
    "incidents_created", "incidents_status_created", "incidents_status_updated",
    "timeline_incident", "approvals_pending", "alerts_incident_seen", "outbox_incident",
    "actions_incident", "actions_started",
}  # fmt: skip


def test_an_existing_database_gains_the_indexes_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "incidents.sqlite"
    Stores(path)
    with sqlite3.connect(path) as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        # a store written before the list indexes existed: without them, and without the
        # record of the migration that adds them
        for index in names & LIST_INDEX_NAMES:
            db.execute(f"DROP INDEX {index}")
        db.execute("DELETE FROM schema_migrations WHERE id = '0003_list_indexes'")
    Stores(path)
    with sqlite3.connect(path) as db:
        again = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert again == names
    assert {"incidents_created", "incidents_status_created", "timeline_incident"} <= again
