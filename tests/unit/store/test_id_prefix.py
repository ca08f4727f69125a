"""An incident named by the start of its id, on both databases: the CLI accepts any unique
prefix (docs/cli.md), read from an index in byte order whatever the database's collation."""

from __future__ import annotations

import pytest

from firstline.store.database import Database, Dialect
from firstline.store.incidents import (
    _ID_RANGE,
    AmbiguousIncidentId,
    IncidentStore,
    UnknownIncident,
)

IDS = [
    "inc-01m8vn5wj8xtvqb6pfxgc52tab",
    "inc-01m8vn5x841tbh8n4q5a88hbwn",
    "inc-01m8vn5x849zzzzzzzzzzzzzzz",
    "inc-01m8vn63a8q5n8pqrmr8ssxcqt",
    "inc-a",
    "inc-ab",  # an id that is the start of another still names itself
    "inc-x_y",  # LIKE's wildcards are plain characters in an id
    "inc-x%y",
]


@pytest.fixture
def store(database: Database) -> IncidentStore:
    s = IncidentStore(database)
    for incident_id in IDS:
        s.create(incident_id, "Alert", "fp", None)
    return s


def test_a_unique_prefix_names_its_incident(store: IncidentStore) -> None:
    assert store.resolve_id("inc-01m8vn5w") == "inc-01m8vn5wj8xtvqb6pfxgc52tab"
    assert store.resolve_id("inc-01m8vn6") == "inc-01m8vn63a8q5n8pqrmr8ssxcqt"
    assert store.resolve_id("inc-01m8vn5x841") == "inc-01m8vn5x841tbh8n4q5a88hbwn"
    for incident_id in IDS:
        assert store.resolve_id(incident_id) == incident_id


def test_an_ambiguous_prefix_says_how_many_incidents_it_starts(store: IncidentStore) -> None:
    with pytest.raises(AmbiguousIncidentId) as raised:
        store.resolve_id("inc-01m8vn5x84")
    assert raised.value.count == 2
    assert "2 incidents" in str(raised.value)
    with pytest.raises(AmbiguousIncidentId) as everything:
        store.resolve_id("inc-")
    assert everything.value.count == len(IDS)
    assert store.ids_with_prefix("inc-01m8vn", limit=10) == (IDS[:4], 4)


def test_wildcards_and_unknown_prefixes_match_nothing_else(store: IncidentStore) -> None:
    assert store.resolve_id("inc-x_") == "inc-x_y"
    assert store.resolve_id("inc-x%") == "inc-x%y"
    for nothing in ("inc-01m8vn5x85", "inc-b", "inc-x", "nope", "INC-01M8"):
        if nothing == "inc-x":
            with pytest.raises(AmbiguousIncidentId):
                store.resolve_id(nothing)
            continue
        with pytest.raises(UnknownIncident, match=nothing):
            store.resolve_id(nothing)


def test_the_prefix_query_is_read_from_an_index(store: IncidentStore) -> None:
    dialect = store.db.dialect
    query = f"SELECT id FROM incidents WHERE {_ID_RANGE[dialect]}"
    with store.db.transaction() as db:
        if dialect is Dialect.POSTGRESQL:
            db.execute("SET LOCAL enable_seqscan = off")  # a table this small is scanned else
            rows = db.execute(f"EXPLAIN {query}", ("inc-01", "inc-02")).fetchall()
        else:
            rows = db.execute(f"EXPLAIN QUERY PLAN {query}", ("inc-01", "inc-02")).fetchall()
    plan = "\n".join(str(list(dict(r).values())) for r in rows)
    wanted = "incidents_id_prefix" if dialect is Dialect.POSTGRESQL else "SEARCH incidents USING"
    assert wanted in plan, plan
