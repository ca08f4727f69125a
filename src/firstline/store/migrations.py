"""The store's schema, as numbered migrations applied once, in order, by every process
that opens a database.

Why not yoyo or Alembic: both guard concurrent migrations with a lock row that a process
killed mid-migration leaves behind, and every later start then refuses to run until
someone removes it by hand; firstline is built to survive `kill -9`. Here a migration runs
inside the database's own transaction, under its own write lock (SQLite's BEGIN
IMMEDIATE, a PostgreSQL advisory lock), so a killed process leaves nothing applied and
nothing locked, and replicas starting together apply each migration exactly once.

A migration is never edited once released; a change of schema is a new one. Each holds
one statement list per dialect. The first is written with IF NOT EXISTS, so that a
database made before migrations existed (by `CREATE ... IF NOT EXISTS` on open) upgrades
in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from firstline.store.database import Connection, Database, Dialect, table_exists
from firstline.store.filters import WORKLOAD


@dataclass(frozen=True)
class AddColumn:
    """A column added only where it is missing (SQLite has no ADD COLUMN IF NOT EXISTS),
    so that a database whose migration record was lost still upgrades."""

    table: str
    column: str
    type: str


Step = str | AddColumn


@dataclass(frozen=True)
class Migration:
    id: str
    sqlite: tuple[Step, ...]
    postgresql: tuple[Step, ...]

    def statements(self, dialect: Dialect) -> tuple[Step, ...]:
        return self.sqlite if dialect is Dialect.SQLITE else self.postgresql


def _tables(*, serial: str, rowid: str) -> tuple[str, ...]:
    """The first schema, in the text both dialects share but for two column types."""
    return (
        "CREATE TABLE IF NOT EXISTS incidents (id TEXT PRIMARY KEY, alert_name TEXT NOT NULL,"
        " fingerprint TEXT NOT NULL, severity TEXT, status TEXT NOT NULL,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '',"
        " scenario_path TEXT, snapshot TEXT)",
        f"CREATE TABLE IF NOT EXISTS timeline (seq {serial},"
        " incident_id TEXT NOT NULL REFERENCES incidents(id), key TEXT NOT NULL,"
        " at TEXT NOT NULL, stage TEXT NOT NULL, event TEXT NOT NULL,"
        " detail TEXT NOT NULL DEFAULT '', UNIQUE (incident_id, key))",
        "CREATE TABLE IF NOT EXISTS approvals (incident_id TEXT NOT NULL REFERENCES"
        " incidents(id), round INTEGER NOT NULL, requested_at TEXT NOT NULL,"
        " expires_at TEXT NOT NULL, decided_at TEXT, approved INTEGER, decided_by TEXT,"
        " channel TEXT, comment TEXT, PRIMARY KEY (incident_id, round))",
        f"CREATE TABLE IF NOT EXISTS alerts (fingerprint TEXT PRIMARY KEY{rowid},"
        " source TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,"
        " group_key TEXT NOT NULL, incident_id TEXT, first_seen TEXT NOT NULL,"
        " last_seen TEXT NOT NULL, receipts INTEGER NOT NULL DEFAULT 1, alert TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS alerts_incident ON alerts (incident_id, status)",
        "CREATE TABLE IF NOT EXISTS alert_groups (incident_id TEXT PRIMARY KEY,"
        " group_key TEXT NOT NULL, opened_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS alert_groups_key ON alert_groups (group_key, opened_at)",
        "CREATE TABLE IF NOT EXISTS work_queue (incident_id TEXT PRIMARY KEY,"
        " state TEXT NOT NULL, enqueued_at TEXT NOT NULL, claimed_at TEXT,"
        " attempts INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX IF NOT EXISTS work_queue_state ON work_queue (state, enqueued_at)",
        "CREATE TABLE IF NOT EXISTS heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS outbox (id {serial}, incident_id TEXT NOT NULL,"
        " notifier TEXT NOT NULL, event_key TEXT NOT NULL, kind TEXT NOT NULL,"
        " dedup_key TEXT NOT NULL, payload TEXT NOT NULL,"
        " status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
        " created_at TEXT NOT NULL, next_attempt_at TEXT NOT NULL,"
        " last_error TEXT NOT NULL DEFAULT '', delivered_at TEXT,"
        " receipt TEXT NOT NULL DEFAULT '{}', lease_owner TEXT, lease_until TEXT,"
        " UNIQUE (incident_id, notifier, event_key))",
        "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)",
        "CREATE TABLE IF NOT EXISTS audit_head (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " count INTEGER NOT NULL, hash TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS actions (idempotency_key TEXT PRIMARY KEY,"
        " incident_id TEXT NOT NULL REFERENCES incidents(id), action TEXT NOT NULL,"
        " status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', started_at TEXT NOT NULL,"
        " finished_at TEXT)",
        "CREATE TABLE IF NOT EXISTS action_details (idempotency_key TEXT PRIMARY KEY,"
        " dry_run TEXT, undo TEXT, report TEXT, reconcile TEXT,"
        " reruns INTEGER NOT NULL DEFAULT 0)",
    )


# A store written before the head existed: the head starts from the chain as it is, once.
_ADOPT_HEAD = (
    "INSERT INTO audit_head (id, count, hash) SELECT 1, count(*),"
    " coalesce((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), '" + "0" * 64 + "')"
    " FROM audit WHERE NOT EXISTS (SELECT 1 FROM audit_head)"
)


def _audit(seq: str) -> tuple[str, ...]:
    return (
        f"CREATE TABLE IF NOT EXISTS audit (seq {seq}, at TEXT NOT NULL,"
        " incident_id TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,"
        " details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS audit_incident ON audit (incident_id, seq)",
    )


_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head"
    " BEGIN SELECT RAISE(ABORT, 'the audit head cannot be removed'); END",
)

_PG_APPEND_ONLY = (
    "CREATE OR REPLACE FUNCTION firstline_refuse() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$",
    "CREATE OR REPLACE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW"
    " EXECUTE FUNCTION firstline_refuse('the audit log is append-only')",
    "CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT"
    " EXECUTE FUNCTION firstline_refuse('the audit log is append-only')",
    "CREATE OR REPLACE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head FOR EACH ROW"
    " EXECUTE FUNCTION firstline_refuse('the audit head cannot be removed')",
)

AUDIT_TABLES = {
    # also what AuditLog recreates, empty, when the table was dropped (store/audit.py)
    Dialect.SQLITE: (*_audit("INTEGER PRIMARY KEY AUTOINCREMENT"), *_SQLITE_APPEND_ONLY),
    Dialect.POSTGRESQL: (*_audit("BIGINT PRIMARY KEY"), *_PG_APPEND_ONLY),
}

_LEASES = (
    AddColumn("work_queue", "lease_owner", "TEXT"),
    AddColumn("work_queue", "lease_until", "TEXT"),
    "CREATE INDEX IF NOT EXISTS work_queue_lease ON work_queue (state, lease_until)",
)

# An index for every list the API and CLI serve (tests/unit/store/test_query_plans.py); the
# (status, updated_at, id) one is how retention and compaction find incidents that are over.
_LIST_INDEXES = (
    "CREATE INDEX IF NOT EXISTS incidents_created ON incidents (created_at)",
    "CREATE INDEX IF NOT EXISTS incidents_status_created ON incidents (status, created_at)",
    "CREATE INDEX IF NOT EXISTS incidents_status_updated ON incidents (status, updated_at, id)",
    "CREATE INDEX IF NOT EXISTS timeline_incident ON timeline (incident_id, seq)",
    "CREATE INDEX IF NOT EXISTS approvals_pending ON approvals (decided_at, expires_at)",
    "CREATE INDEX IF NOT EXISTS alerts_incident_seen ON alerts (incident_id, first_seen)",
    "CREATE INDEX IF NOT EXISTS outbox_incident ON outbox (incident_id, id)",
    "CREATE INDEX IF NOT EXISTS actions_incident ON actions (incident_id, started_at)",
    "CREATE INDEX IF NOT EXISTS actions_started ON actions (started_at)",
)

# What compaction has looked at (store/retention.py); created on first use before 0004.
_COMPACTIONS = (
    "CREATE TABLE IF NOT EXISTS checkpoint_compactions (incident_id TEXT PRIMARY KEY,"
    " updated_at TEXT NOT NULL, compacted_at TEXT NOT NULL, kept INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS checkpoint_compactions_updated"
    " ON checkpoint_compactions (updated_at)",
)

# Incidents by the start of their id (IncidentStore.ids_with_prefix): SQLite's primary key
# already serves that range; PostgreSQL's follows the database's collation, which need not
# be byte order, so the range is read from an index in byte (pattern) order.
_PG_ID_PREFIX = (
    "CREATE INDEX IF NOT EXISTS incidents_id_prefix ON incidents (id text_pattern_ops)",
)


def _console_filters(dialect: Dialect) -> tuple[str, ...]:
    """The web console's list filters (store/filters.py): by severity, and by service
    through the alerts' workload label."""
    return (
        "CREATE INDEX IF NOT EXISTS incidents_severity_created ON incidents (severity, created_at)",
        f"CREATE INDEX IF NOT EXISTS alerts_workload ON alerts (({WORKLOAD[dialect]}))",
    )


def _workload_column(dialect: Dialect) -> tuple[Step, ...]:
    """The alerts' workload as a column the client fills, in place of 0006's expression
    index (store/filters.py, `workload_of`)."""
    return (
        AddColumn("alerts", "workload", "TEXT"),
        f"UPDATE alerts SET workload = {WORKLOAD[dialect]} WHERE workload IS NULL",
        "DROP INDEX IF EXISTS alerts_workload",
        "CREATE INDEX IF NOT EXISTS alerts_workload_column ON alerts (workload)",
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_initial",
        sqlite=(
            *_tables(serial="INTEGER PRIMARY KEY AUTOINCREMENT", rowid=""),
            *AUDIT_TABLES[Dialect.SQLITE],
            _ADOPT_HEAD,
        ),
        postgresql=(
            *_tables(
                serial="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                # alerts keep their arrival order, as SQLite's rowid does
                rowid=", rowid BIGINT GENERATED ALWAYS AS IDENTITY",
            ),
            *AUDIT_TABLES[Dialect.POSTGRESQL],
            _ADOPT_HEAD,
        ),
    ),
    Migration("0002_queue_leases", sqlite=_LEASES, postgresql=_LEASES),
    Migration("0003_list_indexes", sqlite=_LIST_INDEXES, postgresql=_LIST_INDEXES),
    Migration("0004_checkpoint_compactions", sqlite=_COMPACTIONS, postgresql=_COMPACTIONS),
    Migration("0005_incident_id_prefix", sqlite=(), postgresql=_PG_ID_PREFIX),
    Migration(
        "0006_console_filters",
        sqlite=_console_filters(Dialect.SQLITE),
        postgresql=_console_filters(Dialect.POSTGRESQL),
    ),
    Migration(
        "0007_alert_workload_column",
        sqlite=_workload_column(Dialect.SQLITE),
        postgresql=_workload_column(Dialect.POSTGRESQL),
    ),
)

_LEDGER = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
)


def ensure_schema(db: Database) -> None:
    """Apply what this database lacks. A database that is up to date is only read (two
    small queries), so a CLI command on a read-only store still works."""
    if _applied_count(db) != len(MIGRATIONS):
        _apply(db)


def _applied_count(db: Database) -> int:
    """Migrations recorded as applied; -1 before the first."""
    with db.connect() as conn:
        if not table_exists(conn, db.dialect, "schema_migrations"):
            return -1
        return int(conn.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()["n"])


def _apply(db: Database) -> None:
    from datetime import UTC, datetime

    with db.transaction() as conn:
        db.serialize(conn, "firstline.schema")
        conn.execute(_LEDGER)
        done = {r["id"] for r in conn.execute("SELECT id FROM schema_migrations").fetchall()}
        for migration in MIGRATIONS:
            if migration.id in done:
                continue
            for step in migration.statements(db.dialect):
                _run(db, conn, step)
            conn.execute(
                "INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)",
                (migration.id, datetime.now(UTC).isoformat()),
            )


_COLUMNS = {
    Dialect.SQLITE: "SELECT name FROM pragma_table_info(?)",
    Dialect.POSTGRESQL: "SELECT column_name AS name FROM information_schema.columns"
    " WHERE table_name = ? AND table_schema = current_schema()",
}


def _run(db: Database, conn: Connection, step: Step) -> None:
    if isinstance(step, str):
        conn.execute(step)
        return
    present = {r["name"] for r in conn.execute(_COLUMNS[db.dialect], (step.table,)).fetchall()}
    if step.column not in present:
        conn.execute(f"ALTER TABLE {step.table} ADD COLUMN {step.column} {step.type}")
