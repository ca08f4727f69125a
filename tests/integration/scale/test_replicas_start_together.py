"""Three `firstline serve` replicas started at the same moment on an empty PostgreSQL
database (real processes, a real PostgreSQL 15): all of them migrate the schema and set up
LangGraph's checkpoint tables between them, and every one listens. This once hung every
replica about one start in three: a replica blocked on the setup lock inside a statement
held a transaction open, and LangGraph's CREATE INDEX CONCURRENTLY waits for every open
transaction, so the holder waited for the waiters."""

from __future__ import annotations

from pathlib import Path

from firstline.store.migrations import MIGRATIONS
from tests.services.postgres import PostgresCluster
from tests.services.replicas import new_database, query, start_replicas


def test_replicas_started_together_on_an_empty_database_all_come_up(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    for start in range(3):  # the race showed about once in three starts
        url = new_database(postgres_cluster)
        replicas = start_replicas(
            tmp_path / f"start-{start}", 3, env={"FIRSTLINE_STORE__URL": url}, timeout=90
        )
        try:
            for replica in replicas:
                with replica.client() as client:
                    assert client.get("/readyz").status_code == 200
            applied = query(url, "SELECT id FROM schema_migrations ORDER BY id")
            assert [r["id"] for r in applied] == [m.id for m in MIGRATIONS], "each one once"
            versions = query(
                url, "SELECT count(*) AS n, count(DISTINCT v) AS d FROM checkpoint_migrations"
            )
            assert versions[0]["n"] == versions[0]["d"] > 0, "each checkpoint migration once"
        finally:
            for replica in replicas:
                replica.stop()
