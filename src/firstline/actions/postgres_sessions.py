"""terminate_db_connections on PostgreSQL (14+): end sessions idle in transaction too long,
or the oldest sessions of one application beyond a cap.

Parameters: `idle_in_transaction_seconds` (sessions idle in a transaction longer than this)
and/or `application_name` with `max_sessions` (keep that application's newest N sessions,
end the older ones). `application_name` alone also narrows the idle selection.

Never touched, whatever the parameters say: superuser sessions (pg_roles.rolsuper), anything
that is not a client backend (walsenders, autovacuum, background workers), firstline's own
session, and the roles in `protected_users`. Only sessions of the DSN's database count.
Selection and termination happen in one statement, so a session is judged on its state at
that moment, not on what a dry-run saw earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from psycopg.rows import dict_row

from firstline.actions.base import ExecutionOutcome, Preflight, ReconcileResult, Reconciliation
from firstline.actions.settings import PostgresActionSettings
from firstline.actions.targets import connection_for, unknown_target
from firstline.domain.action import ActionType, RemediationAction

log = structlog.get_logger(__name__)

TARGET_KINDS = ("database", "postgres", "postgresql")

# Candidates: client backends of this database, not superusers, not us, not protected.
# `over_cap` numbers an application's sessions newest first; beyond the cap means older.
_CANDIDATES = """
WITH candidates AS (
  SELECT a.pid, a.usename::text AS usename, a.application_name, a.state,
         a.backend_start,
         extract(epoch FROM now() - a.state_change)::float8 AS idle_seconds,
         row_number() OVER (PARTITION BY a.application_name
                            ORDER BY a.backend_start DESC, a.pid DESC) AS newest_rank
  FROM pg_stat_activity a
  JOIN pg_roles r ON r.oid = a.usesysid
  WHERE a.backend_type = 'client backend'
    AND a.datname = current_database()
    AND a.pid <> pg_backend_pid()
    AND NOT r.rolsuper
    AND NOT (a.usename::text = ANY(%(protected)s::text[]))
    AND (%(app)s::text IS NULL OR a.application_name = %(app)s::text)
)
SELECT pid, usename, application_name, state, backend_start, idle_seconds{terminate}
FROM candidates
WHERE (%(idle)s::float8 IS NOT NULL
       AND state LIKE 'idle in transaction%%' AND idle_seconds > %(idle)s::float8)
   OR (%(cap)s::int IS NOT NULL AND newest_rank > %(cap)s::int)
ORDER BY backend_start, pid
"""
SELECT_SQL = _CANDIDATES.format(terminate="")
TERMINATE_SQL = _CANDIDATES.format(
    terminate=", pg_terminate_backend(pid, %(wait)s::bigint) AS terminated"
)
RIGHTS_SQL = """
SELECT r.rolsuper,
       pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS can_signal,
       pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') AS can_read
FROM pg_roles r WHERE r.rolname = current_user
"""


@dataclass(frozen=True)
class Criteria:
    idle_seconds: float | None
    application: str | None
    max_sessions: int | None

    def describe(self) -> str:
        parts = []
        if self.idle_seconds is not None:
            parts.append(f"idle in transaction > {self.idle_seconds:g}s")
        if self.max_sessions is not None:
            parts.append(f"beyond the newest {self.max_sessions} sessions")
        scope = f" of application {self.application!r}" if self.application else ""
        return " or ".join(parts) + scope


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_criteria(
    action: RemediationAction, settings: PostgresActionSettings
) -> tuple[Criteria | None, list[str]]:
    params, problems = action.parameters, []
    idle = params.get("idle_in_transaction_seconds")
    idle_seconds = _number(idle) if idle is not None else None
    if idle is not None and (idle_seconds is None or idle_seconds < 0):
        problems.append("idle_in_transaction_seconds must be a non-negative number")
    elif idle_seconds is not None and idle_seconds < settings.min_idle_in_transaction_seconds:
        problems.append(
            f"idle_in_transaction_seconds {idle_seconds:g} is below the floor of "
            f"{settings.min_idle_in_transaction_seconds:g}s (min_idle_in_transaction_seconds)"
        )
    app = params.get("application_name")
    if app is not None and (not isinstance(app, str) or not app):
        problems.append("application_name must be a non-empty string")
    cap = params.get("max_sessions")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
        problems.append("max_sessions must be a non-negative integer")
    if cap is not None and app is None:
        problems.append("max_sessions needs application_name: the cap is per application")
    if idle is None and cap is None:
        problems.append("give idle_in_transaction_seconds and/or application_name + max_sessions")
    if problems:
        return None, problems
    return Criteria(
        idle_seconds=idle_seconds,
        application=app if isinstance(app, str) else None,
        max_sessions=cap if isinstance(cap, int) else None,
    ), []


def _session_line(row: dict[str, Any]) -> str:
    return (
        f"pid={row['pid']} user={row['usename']} application={row['application_name'] or '-'}"
        f" state={row['state'] or '-'} idle_for={row['idle_seconds'] or 0:.1f}s"
    )


class PostgresSessionExecutor:
    """See docs/remediation/data-and-scripts.md."""

    name = "postgres"

    def __init__(self, settings: PostgresActionSettings) -> None:
        self.settings = settings

    def supports(self, action_type: ActionType) -> bool:
        return action_type is ActionType.TERMINATE_DB_CONNECTIONS

    def _check(self, action: RemediationAction) -> tuple[Criteria | None, list[str]]:
        problems = []
        if action.target.kind.lower() not in TARGET_KINDS:
            problems.append(
                f"terminate_db_connections targets a database, not {action.target.kind}"
            )
        if connection_for(action.target, self.settings.targets) is None:
            problems.append(unknown_target(action.target, "PostgreSQL"))
        criteria, more = parse_criteria(action, self.settings)
        return criteria, problems + more

    async def _connect(self, action: RemediationAction) -> psycopg.AsyncConnection[Any]:
        dsn = connection_for(action.target, self.settings.targets)
        assert dsn is not None  # _check refused unknown targets
        return await psycopg.AsyncConnection.connect(
            dsn,
            autocommit=True,
            connect_timeout=self.settings.connect_timeout_seconds,
            application_name="firstline",
            options=f"-c statement_timeout={self.settings.statement_timeout_ms}",
        )

    def _args(self, criteria: Criteria) -> dict[str, Any]:
        return {
            "protected": list(self.settings.protected_users),
            "app": criteria.application,
            "idle": criteria.idle_seconds,
            "cap": criteria.max_sessions,
            "wait": self.settings.terminate_wait_ms,
        }

    async def _select(
        self, conn: psycopg.AsyncConnection[Any], criteria: Criteria
    ) -> list[dict[str, Any]]:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(SELECT_SQL, self._args(criteria))
            return await cur.fetchall()

    @staticmethod
    async def _rights_problem(conn: psycopg.AsyncConnection[Any]) -> str | None:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(RIGHTS_SQL)
            row = await cur.fetchone()
        if row is None or row["rolsuper"]:
            return None if row else "cannot read firstline's own role"
        missing = [
            role
            for role, granted in (
                ("pg_signal_backend", row["can_signal"]),
                ("pg_read_all_stats", row["can_read"]),
            )
            if not granted
        ]
        if missing:
            return f"firstline's database role lacks {' and '.join(missing)} (or superuser)"
        return None

    def _too_many(self, rows: list[dict[str, Any]]) -> str | None:
        if len(rows) > self.settings.max_terminated:
            return (
                f"{len(rows)} sessions match, above max_terminated={self.settings.max_terminated}"
                " (blast radius)"
            )
        return None

    # -- the port ---------------------------------------------------------------------------

    async def preflight(self, action: RemediationAction) -> Preflight:
        criteria, problems = self._check(action)
        if criteria is None or problems:
            return Preflight(ok=False, problems=problems)
        try:
            async with await self._connect(action) as conn:
                rights = await self._rights_problem(conn)
                rows = [] if rights else await self._select(conn, criteria)
        except psycopg.Error as exc:
            return Preflight(ok=False, problems=[f"PostgreSQL {action.target}: {exc}"])
        if rights:
            return Preflight(ok=False, problems=[rights])
        if (too_many := self._too_many(rows)) is not None:
            return Preflight(ok=False, problems=[too_many])
        return Preflight(ok=True, no_change=not rows)

    async def dry_run(self, action: RemediationAction) -> str:
        criteria, problems = self._check(action)
        if criteria is None or problems:
            return f"would not {action.describe()}: {'; '.join(problems)}"
        try:
            async with await self._connect(action) as conn:
                rows = await self._select(conn, criteria)
        except psycopg.Error as exc:
            return f"would not {action.describe()}: PostgreSQL {action.target}: {exc}"
        head = f"would terminate {len(rows)} sessions on {action.target} ({criteria.describe()})"
        return "\n".join([head] + [f"  {_session_line(row)}" for row in rows])

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        criteria, problems = self._check(action)
        if criteria is None or problems:
            return ExecutionOutcome(ok=False, detail="; ".join(problems))
        try:
            async with await self._connect(action) as conn:
                if (rights := await self._rights_problem(conn)) is not None:
                    return ExecutionOutcome(ok=False, detail=rights)
                if (too_many := self._too_many(await self._select(conn, criteria))) is not None:
                    return ExecutionOutcome(ok=False, detail=too_many)
                async with conn.cursor(row_factory=dict_row) as cur:
                    await cur.execute(TERMINATE_SQL, self._args(criteria))
                    rows = await cur.fetchall()
        except psycopg.Error as exc:
            return ExecutionOutcome(ok=False, detail=f"PostgreSQL {action.target}: {exc}")
        ended = [row for row in rows if row["terminated"]]
        missed = [row for row in rows if not row["terminated"]]
        log.info("postgres.terminated", target=str(action.target), pids=[r["pid"] for r in ended])
        detail = f"terminated {len(ended)} sessions on {action.target} ({criteria.describe()})"
        if missed:
            detail += f"; {len(missed)} did not exit within {self.settings.terminate_wait_ms} ms"
        return ExecutionOutcome(
            ok=not missed,
            detail=detail,
            report={
                "terminated": [_session_line(row) for row in ended],
                "pids": [str(row["pid"]) for row in ended],
                "users": sorted({str(row["usename"]) for row in ended}),
                "applications": sorted({str(row["application_name"]) for row in ended}),
                "states": sorted({str(row["state"]) for row in ended}),
                "not_terminated": [_session_line(row) for row in missed],
            },
        )

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        criteria, problems = self._check(action)
        if criteria is None or problems:
            return ReconcileResult(state=Reconciliation.UNKNOWN, detail="; ".join(problems))
        try:
            async with await self._connect(action) as conn:
                rows = await self._select(conn, criteria)
        except psycopg.Error as exc:
            return ReconcileResult(state=Reconciliation.UNKNOWN, detail=f"PostgreSQL: {exc}")
        if rows:
            return ReconcileResult(
                state=Reconciliation.NOT_APPLIED,
                detail=f"{len(rows)} matching sessions remain: "
                + ", ".join(f"pid {row['pid']}" for row in rows),
            )
        return ReconcileResult(
            state=Reconciliation.APPLIED, detail=f"no session matches ({criteria.describe()})"
        )
