"""Connection-pool exhaustion: every connection is in use and callers queue for one.

Typical alerts: HikariCP/pgbouncer pool alerts, PostgresqlTooManyConnections,
MysqlTooManyConnections, and the HighLatency/HighErrorRate they cause. The key signals are
the drivers' own timeout messages ("Connection is not available, request timed out",
"too many clients already", "remaining connection slots are reserved", "QueuePool limit")
and a pool or server sitting at its connection maximum.

Who holds the connections decides the fix:
- sessions left *idle in transaction* on the database: terminate those sessions (medium risk,
  database target, needs approval);
- the application's own pool is full while the database has headroom (a leak in the app):
  a rolling restart of the app returns the connections (low risk);
- the database is full of busy, legitimate sessions: a person must decide (raise
  max_connections, add a pooler, shed load).

The server side is read from postgres_exporter's session counts (`db_connections_active`,
`db_connections_max`, `db_connections_idle_in_transaction`), from the generic database
metrics (`db_connections`, `db_max_connections`, which CloudWatch's DatabaseConnections also
maps to), or from database activity evidence (sessions by state against max_connections;
idle-in-transaction sessions show up there as `Client:ClientRead` waits).
"""

from __future__ import annotations

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import DatabaseActivityEvidence, EvidenceSet, MetricEvidence
from firstline.domain.query import MetricQuery
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard

_POD = 'namespace="$namespace",pod=~"$service-.*"'

DB_POOL_ACTIVE = MetricQuery(
    name="db_pool_active",
    unit="connections",
    promql=f"sum(hikaricp_connections_active{{{_POD}}})",
    description="Connections the application's pool has checked out.",
)
DB_POOL_MAX = MetricQuery(
    name="db_pool_max",
    unit="connections",
    promql=f"sum(hikaricp_connections_max{{{_POD}}})",
    description="The application's pool size.",
)
DB_POOL_PENDING = MetricQuery(
    name="db_pool_pending",
    unit="threads",
    promql=f"sum(hikaricp_connections_pending{{{_POD}}})",
    description="Threads waiting for a connection from the pool.",
)
DB_CONNECTIONS_ACTIVE = MetricQuery(
    name="db_connections_active",
    unit="connections",
    promql='sum(pg_stat_activity_count{namespace="$namespace"})',
    description="Server-side sessions on the database (postgres_exporter).",
)
DB_CONNECTIONS_MAX = MetricQuery(
    name="db_connections_max",
    unit="connections",
    promql='max(pg_settings_max_connections{namespace="$namespace"})',
)
DB_IDLE_IN_TRANSACTION = MetricQuery(
    name="db_connections_idle_in_transaction",
    unit="connections",
    promql='sum(pg_stat_activity_count{namespace="$namespace",state="idle in transaction"})',
    description="Sessions holding a transaction open while doing nothing.",
)

EXHAUSTION_LINES = (
    "connection is not available, request timed out",
    "too many connections",
    "too many clients already",
    "remaining connection slots are reserved",
    "queuepool limit of size",
    "timeout waiting for idle object",
    "unable to acquire jdbc connection",
    "could not get jdbc connection",
    "connection pool exhausted",
    "pool exhausted",
    "timed out waiting for a connection",
    "no more connections allowed",
)
LEAK_LINES = ("connection leak detection triggered", "apparent connection leak")
_STATEFUL_WORDS = ("postgres", "mysql", "mariadb", "database", "-db", "pgbouncer")


def _near_max(active: MetricEvidence | None, limit: MetricEvidence | None) -> bool:
    if active is None or limit is None or not limit.last:
        return False
    recent = [p.value for p in active.points[-10:]]
    return max(recent) >= 0.9 * limit.last


def _rising(metric: MetricEvidence | None) -> bool:
    return bool(metric and metric.anomalous and metric.findings[0].direction == "up")


def _idle_in_transaction(ev: EvidenceSet) -> MetricEvidence | None:
    idle = ev.metric("db_connections_idle_in_transaction")
    active = ev.metric("db_connections_active")
    if idle is None or idle.last is None:
        return None
    floor = max(5.0, 0.25 * (active.last or 0.0)) if active else 5.0
    return idle if idle.last >= floor else None


def _activity(ev: EvidenceSet) -> DatabaseActivityEvidence | None:
    found = ev.databases()
    return max(found, key=lambda d: sum(d.sessions.values())) if found else None


def _activity_full(ev: EvidenceSet) -> bool:
    """The database-activity evidence shows its sessions at 90% of max_connections."""
    db = _activity(ev)
    if db is None or not db.max_connections or not db.sessions:
        return False
    return sum(db.sessions.values()) >= 0.9 * db.max_connections


def _activity_idle_in_transaction(ev: EvidenceSet) -> int:
    """Sessions idle in transaction by the database-activity evidence, when they are at least
    5 and a quarter of all sessions; else 0."""
    db = _activity(ev)
    if db is None:
        return 0
    idle = sum(n for s, n in db.sessions.items() if s.lower().startswith("idle in transaction"))
    return idle if idle >= max(5.0, 0.25 * sum(db.sessions.values())) else 0


def _client_read_share(ev: EvidenceSet) -> float:
    db = _activity(ev)
    total = sum(db.wait_events.values()) if db else 0.0
    if db is None or total <= 0:
        return 0.0
    return sum(v for k, v in db.wait_events.items() if k.lower() == "client:clientread") / total


def _server_full(ev: EvidenceSet) -> bool:
    return (
        _near_max(ev.metric("db_connections_active"), ev.metric("db_connections_max"))
        or _near_max(ev.metric("db_connections"), ev.metric("db_max_connections"))
        or _activity_full(ev)
    )


def _server_ref(ev: EvidenceSet) -> str:
    if _near_max(ev.metric("db_connections_active"), ev.metric("db_connections_max")):
        return "metric:db_connections_active"
    if _near_max(ev.metric("db_connections"), ev.metric("db_max_connections")):
        return "metric:db_connections"
    db = _activity(ev)
    return db.id if db else "metric:db_connections_active"


def database_name(ctx: PatternContext) -> str:
    """The database the sessions live on: from the exporter's labels, else the alert's."""
    for name in ("db_connections_idle_in_transaction", "db_connections_active"):
        metric = ctx.evidence.metric(name)
        for key in ("server", "service", "datname", "instance"):
            if metric and (value := metric.labels.get(key)):
                return value.split(":")[0]
    activity = _activity(ctx.evidence)
    if activity is not None:
        return activity.instance
    component = ctx.component or "database"
    if any(w in component.lower() for w in _STATEFUL_WORDS):
        return component
    return f"{component}-db"


class ConnectionPoolExhaustion(Pattern):
    id = "connection_pool_exhaustion"
    title = "Connection pool exhausted"
    default_severity = Severity.HIGH
    alert_names = (
        r".*Connection.?Pool.*",
        r".*Pool.*(Exhaust|Pending|Saturat).*",
        r"Hikari.*",
        r"PgBouncer.*",
        r".*TooMany(Connections|Clients).*",
        r"(Postgres(ql)?|Mysql|MySQL).*Connections.*",
        r".*Error.?Rate.*",
        r".*Latency.*",
    )
    metrics = (
        DB_POOL_ACTIVE,
        DB_POOL_MAX,
        DB_POOL_PENDING,
        DB_CONNECTIONS_ACTIVE,
        DB_CONNECTIONS_MAX,
        DB_IDLE_IN_TRANSACTION,
        queries.DB_CONNECTIONS,
        queries.DB_MAX_CONNECTIONS,
        queries.LATENCY_P99,
        queries.ERROR_RATE,
    )

    confirm_with = (
        "the pool's active/max connections and threads waiting for one",
        "pg_stat_activity: sessions by state, idle in transaction age",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        logs = ev.logs()
        exhausted = max(
            logs.count_matching(*EXHAUSTION_LINES) if logs else 0,
            ctx.signals.count("pool_exhausted"),
        )
        # the server refusing clients is the same exhaustion seen from the database
        refused = ctx.signals.of("db_connection_limit", in_scope=None)
        card.add(
            exhausted >= 3,
            2.5,
            f"{exhausted} log lines of callers timing out for a connection",
            "logs",
        )
        card.add(0 < exhausted < 3, 1.5, f"{exhausted} log line(s) of a connection timeout", "logs")
        pool_full = _near_max(ev.metric("db_pool_active"), ev.metric("db_pool_max"))
        server_full = _server_full(ev) or bool(refused)
        card.add(
            bool(refused),
            1.5,
            f"the database turns clients away: {refused[0].summary}" if refused else "",
            refused[0].ref if refused else None,
        )
        server_ref = _server_ref(ev)
        card.add(
            pool_full, 1.5, "the application's pool is at its maximum size", "metric:db_pool_active"
        )
        card.add(
            server_full and not pool_full,
            1.5,
            "the database is at max_connections",
            server_ref,
        )
        card.add(
            server_full and pool_full,
            0.25,
            "the database is at max_connections too",
            server_ref,
        )
        pending = ev.metric("db_pool_pending")
        card.add(
            bool(pending and pending.last and pending.last >= 1 and _rising(pending)),
            0.75,
            f"{pending.last:.0f} threads waiting for a connection"
            if pending and pending.last
            else "",
            "metric:db_pool_pending",
        )
        idle = _idle_in_transaction(ev)
        card.add(
            idle is not None,
            0.75,
            f"{idle.last:.0f} sessions idle in transaction hold connections"
            if idle and idle.last
            else "",
            "metric:db_connections_idle_in_transaction",
        )
        idle_sessions = _activity_idle_in_transaction(ev) if idle is None else 0
        activity = _activity(ev)
        card.add(
            idle_sessions > 0,
            0.75,
            f"{idle_sessions} sessions idle in transaction hold connections",
            activity.id if activity else None,
        )
        card.add(
            bool(idle or idle_sessions) and _client_read_share(ev) >= 0.5,
            0.25,
            "most of the database's load waits on Client:ClientRead (open transactions waiting "
            "for their client)",
            activity.id if activity else None,
        )
        card.add(
            bool(logs and logs.count_matching(*LEAK_LINES)),
            0.5,
            "the pool reports a connection leak",
            "logs",
        )
        symptom = next(
            (m for n in ("latency_p99", "error_rate") if _rising(m := ev.metric(n))), None
        )
        card.add(
            symptom is not None,
            0.5,
            f"{symptom.name} {symptom.findings[0].sentence}" if symptom else "",
            symptom.id if symptom else None,
        )
        card.add(
            not exhausted and not pool_full and not server_full,
            -2.5,
            "no connection timeouts in logs and no pool or server at its connection limit",
        )
        component = ctx.component or "the service"
        if idle is not None or idle_sessions:
            db = database_name(ctx)
            return (
                card,
                f"sessions left idle in transaction on {db} hold its connections, so callers "
                "time out waiting for one",
                [db],
            )
        if pool_full and not server_full:
            return (
                card,
                f"{component} leaks connections: its pool is full while the database has headroom",
                [component],
            )
        db = database_name(ctx) if server_full else component
        return card, f"{db} has no free connections left for its callers", [db]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        ev = ctx.evidence
        target_name = components[0]
        if _idle_in_transaction(ev) is not None or _activity_idle_in_transaction(ev):
            return [
                make_action(
                    ActionType.TERMINATE_DB_CONNECTIONS,
                    Target(kind="database", name=target_name, namespace=ctx.namespace),
                    rationale="sessions idle in transaction hold connections (and locks) "
                    "without doing work; terminating them frees the slots",
                    # idle_in_transaction_seconds is what the PostgreSQL executor reads;
                    # state/min_idle_seconds are kept for reports and older readers
                    parameters={
                        "state": "idle in transaction",
                        "min_idle_seconds": 300,
                        "idle_in_transaction_seconds": 300,
                    },
                )
            ]
        pool_full = _near_max(ev.metric("db_pool_active"), ev.metric("db_pool_max"))
        server_full = _server_full(ev) or ctx.signals.has("db_connection_limit", in_scope=None)
        stateful = any(w in target_name.lower() for w in _STATEFUL_WORDS)
        if pool_full and not server_full and not stateful:
            return [
                make_action(
                    ActionType.RESTART,
                    Target(kind="deployment", name=target_name, namespace=ctx.namespace),
                    rationale="the application's own pool is full while the database has "
                    "headroom: fresh pods return the leaked connections (the leak still needs "
                    "a code fix)",
                )
            ]
        db = target_name
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="database", name=db, namespace=ctx.namespace),
                rationale="the database is full of active sessions; which caller to cut or "
                "whether to raise the limit is a person's call",
                steps=[
                    f"on {db}: SELECT usename, application_name, client_addr, state, count(*) "
                    "FROM pg_stat_activity GROUP BY 1,2,3,4 ORDER BY 5 DESC;",
                    "find the caller holding most sessions and scale it down or lower its pool",
                    "if the load is legitimate, put a pooler (pgbouncer) in front or raise "
                    "max_connections in a planned change (needs a restart of the database)",
                ],
            )
        ]


PATTERN = ConnectionPoolExhaustion()
