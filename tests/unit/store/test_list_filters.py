"""The incident list's filters (the console's): each narrows to exactly the incidents it
names, alone and together, on SQLite and on PostgreSQL, in a store written the way intake
writes it."""

from __future__ import annotations

import pytest

from firstline.domain.alert import Severity
from firstline.domain.incident import IncidentStatus
from firstline.store import migrations
from firstline.store.database import Database
from firstline.store.filters import ListFilters
from firstline.store.incidents import IncidentStore
from firstline.store.intake import IntakeStore
from firstline.store.migrations import ensure_schema
from tests.unit.store.seed import ingest_incidents


def _store(database: Database) -> tuple[IncidentStore, list[str]]:
    ids = ingest_incidents(IntakeStore(database), 12)  # svc-0 .. svc-11, one second apart
    store = IncidentStore(database)
    for n, incident in enumerate(ids):
        store.update(incident, severity=Severity.HIGH if n % 3 == 0 else Severity.LOW,
                     status=IncidentStatus.ESCALATED if n % 2 else IncidentStatus.RESOLVED)  # fmt: skip
    return store, ids


def _ids(
    store: IncidentStore, filters: ListFilters, status: IncidentStatus | None = None
) -> list[str]:
    return [s.id for s in store.list_incidents(50, status, filters)]


def test_each_filter_alone_and_together(database: Database) -> None:
    store, ids = _store(database)
    newest_first = ids[::-1]
    assert _ids(store, ListFilters()) == newest_first
    assert _ids(store, ListFilters(severity=Severity.HIGH)) == [ids[9], ids[6], ids[3], ids[0]]
    assert _ids(store, ListFilters(service="svc-1")) == [ids[1]], "svc-1, not svc-10 or svc-11"
    assert _ids(store, ListFilters(service="svc")) == [], "a whole label value, not a part"
    created = {s.id: s.created_at for s in store.list_incidents(50)}
    assert _ids(store, ListFilters(since=created[ids[8]])) == [ids[11], ids[10], ids[9], ids[8]]
    assert _ids(store, ListFilters(before=created[ids[2]])) == [ids[1], ids[0]]
    both = ListFilters(severity=Severity.HIGH, before=created[ids[9]])
    assert _ids(store, both, IncidentStatus.ESCALATED) == [ids[3]]


def test_wildcards_in_a_service_name_are_literal(database: Database) -> None:
    store, _ = _store(database)
    for pattern in ("svc-%", "svc-_", "%", "_"):
        assert _ids(store, ListFilters(service=pattern)) == [], pattern


def test_alerts_stored_before_the_workload_column_are_found_after_the_upgrade(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written by a release before migration 0007 (workload read from the JSON body
    by an expression index) keeps answering the service filter once it is upgraded."""
    before = tuple(m for m in migrations.MIGRATIONS if m.id < "0007")
    with monkeypatch.context() as old_release:
        old_release.setattr(migrations, "MIGRATIONS", before)
        ensure_schema(database)
        with database.transaction() as db:
            db.execute(
                "INSERT INTO alerts (fingerprint, source, name, status, group_key, incident_id,"
                " first_seen, last_seen, alert) VALUES ('f1', 'alertmanager', 'X', 'firing',"
                " 'g', 'inc-old', 't', 't', ?)",
                ('{"labels": {"deployment": "orders-api", "service": "orders"}}',),
            )
    ensure_schema(database)
    with database.connect() as db:
        rows = db.execute(
            "SELECT incident_id FROM alerts WHERE workload = ?", ("orders-api",)
        ).fetchall()
    assert [r["incident_id"] for r in rows] == ["inc-old"], "the deployment label comes first"
