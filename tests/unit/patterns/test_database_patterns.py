"""The database patterns (db_replication_lag, db_storage_full, db_runaway_query,
db_checkpoint_storm, db_failover) and connection_pool_exhaustion's server-side signals.

Evidence is shaped like real systems produce it: postgres_exporter / CloudWatch series under
the query names, RDS events on `dbinstance/<id>`, Performance-Insights-style top statements
with wait events, and PostgreSQL server log lines. Each pattern gets a confident case and a
near miss that must stay below the decision threshold."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from firstline.actions.postgres_sessions import parse_criteria
from firstline.actions.settings import PostgresActionSettings
from firstline.detection.detectors import get_detector
from firstline.domain.action import ActionType, Risk
from firstline.domain.alert import Alert
from firstline.domain.evidence import (
    DatabaseActivityEvidence,
    EvidenceSet,
    KubeEvent,
    MetricEvidence,
    MetricPoint,
    StatementActivity,
)
from firstline.domain.hypothesis import RootCauseHypothesis
from firstline.graph.gathering import annotate
from firstline.patterns.base import Pattern, PatternVerdict
from firstline.patterns.library import (
    connection_pool_exhaustion,
    db_checkpoint_storm,
    db_failover,
    db_replication_lag,
    db_runaway_query,
    db_storage_full,
)

from .builders_a import action_types, bundle_verdict, hypothesis, ruled_out_or_weak
from .builders_b import PROV, ago, context, evidence, log, logs, make_alert

GIB = 1024**3
LAG = db_replication_lag.PATTERN
STORAGE = db_storage_full.PATTERN
RUNAWAY = db_runaway_query.PATTERN
CHECKPOINT = db_checkpoint_storm.PATTERN
FAILOVER = db_failover.PATTERN
DB_PATTERNS: list[Pattern] = [LAG, STORAGE, RUNAWAY, CHECKPOINT, FAILOVER]


def metric(
    name: str,
    level: Callable[[float], float],
    *,
    unit: str = "",
    labels: dict[str, str] | None = None,
) -> MetricEvidence:
    """61 one-minute points ending now; `level(minutes_ago)` gives each value (with a little
    deterministic jitter), annotated by the detector the graph uses."""
    points = []
    for i in range(61):
        minutes = 60 - i
        jitter = 1.0 + 0.02 * ((i * 7) % 5 - 2) / 2
        points.append(MetricPoint(ts=ago(minutes), value=level(minutes) * jitter))
    found = MetricEvidence(
        id=f"metric:{name}",
        name=name,
        unit=unit,
        labels=labels or {},
        provenance=PROV,
        points=points,
    )
    return annotate(found, get_detector("robust_shift"))


def flat(name: str, value: float, unit: str = "") -> MetricEvidence:
    return metric(name, lambda _m: value, unit=unit)


def step(name: str, base: float, to: float, since: float, unit: str = "") -> MetricEvidence:
    return metric(name, lambda m: to if m <= since else base, unit=unit)


def ramp(name: str, base: float, to: float, since: float, unit: str = "") -> MetricEvidence:
    """`base` until `since` minutes ago, then linearly to `to` at now."""
    return metric(name, lambda m: base if m >= since else to + (base - to) * m / since, unit=unit)


def activity(
    instance: str,
    statements: list[tuple[str, float, dict[str, float]]],
    *,
    sessions: dict[str, int] | None = None,
    max_connections: int | None = 1000,
    load: float | None = None,
) -> DatabaseActivityEvidence:
    """Performance-Insights-style activity: (statement, average active sessions, waits)."""
    waits: dict[str, float] = {}
    for _, _, w in statements:
        for k, v in w.items():
            waits[k] = waits.get(k, 0.0) + v
    total = load if load is not None else sum(s[1] for s in statements)
    return DatabaseActivityEvidence(
        id=f"database:{instance}",
        provenance=PROV,
        instance=instance,
        sessions=sessions or {"active": 20, "idle": 80},
        max_connections=max_connections,
        load=[MetricPoint(ts=ago(m), value=total) for m in range(10, -1, -1)],
        wait_events=waits,
        statements=[
            StatementActivity(statement=s, load=ld, calls_per_sec=None, wait_events=w)
            for s, ld, w in statements
        ],
    )


def db_event(message: str, instance: str, minutes: float, reason: str = "failover") -> KubeEvent:
    return KubeEvent(
        type="Normal",
        reason=reason,
        message=message,
        object=f"dbinstance/{instance}",
        last_seen=ago(minutes),
        first_seen=ago(minutes),
    )


def with_db(ev: EvidenceSet, *dbs: DatabaseActivityEvidence) -> EvidenceSet:
    return EvidenceSet(items=[*ev.items, *dbs])


def verdict(pattern: Pattern, alert: Alert, ev: EvidenceSet) -> PatternVerdict:
    return pattern.evaluate(context(alert, ev))


def assert_safe(h: RootCauseHypothesis) -> None:
    """Database patterns never propose a failover, nor anything high-risk a machine would run."""
    for action in h.suggested_actions:
        assert action.type is not ActionType.FAILOVER_DATABASE
        assert action.type is ActionType.MANUAL_ONLY or action.risk is not Risk.HIGH
        if action.type is ActionType.MANUAL_ONLY:
            assert action.steps, "manual steps must say what to run"


# --- db_replication_lag ------------------------------------------------------------------

_REPLICA = {"dbinstance_identifier": "orders-db-replica-1", "namespace": "orders"}


def _lag_alert() -> Alert:
    return make_alert("AwsRdsReplicaLagHigh", severity="warning", **_REPLICA)


def test_replica_lag_from_a_write_burst_on_the_primary() -> None:
    ev = evidence(
        metrics=[
            metric("db_replica_lag", lambda m: 0.4 if m > 14 else 0.4 + (14 - m) * 25, unit="s"),
            step("db_transaction_log_generation", 6e6, 95e6, since=16, unit="bytes/s"),
            step("db_write_iops", 900, 5200, since=16),
            flat("db_read_latency", 0.0012, unit="seconds"),
            flat("db_disk_queue_depth", 1.5),
        ],
    )
    ev = with_db(
        ev,
        activity(
            "orders-db",
            [
                (
                    "UPDATE order_items SET status = $1 WHERE batch_id = $2",
                    6.5,
                    {"IO:WALWrite": 2.5, "CPU": 2.0, "IO:DataFileRead": 2.0},
                ),
                ("SELECT * FROM orders WHERE id = $1", 0.8, {"CPU": 0.8}),
            ],
        ),
    )
    h = hypothesis(verdict(LAG, _lag_alert(), ev))
    assert h.confidence >= 0.8
    assert "orders-db-replica-1" in h.cause
    assert "burst of WAL" in h.cause and "UPDATE order_items" in h.cause
    assert any("before the lag started" in s for s in h.signals)
    assert "metric:db_replica_lag" in h.evidence_refs
    assert action_types(h) == ["manual_only"]
    steps = " ".join(h.suggested_actions[0].steps)
    assert "pg_stat_replication" in steps and "pause it" in steps
    assert_safe(h)


def test_replica_lag_on_a_starved_replica_blames_the_replica() -> None:
    ev = evidence(
        metrics=[
            ramp("db_replica_lag", 0.5, 180, since=12, unit="s"),
            flat("db_transaction_log_generation", 7e6, unit="bytes/s"),
            step("db_read_latency", 0.0015, 0.045, since=13, unit="seconds"),
            step("db_disk_queue_depth", 2, 64, since=13),
        ],
        log_entries=logs(
            "FATAL:  terminating connection due to conflict with recovery",
            count=3,
            app="orders-db-replica-1",
        ),
    )
    h = hypothesis(verdict(LAG, _lag_alert(), ev))
    assert h.confidence >= 0.75
    assert "starved" in h.cause and "orders-db-replica-1" in h.cause
    assert any("WAL rate is flat" in s for s in h.signals)
    assert_safe(h)


def test_replica_lag_blip_that_recovered_is_not_an_incident() -> None:
    ev = evidence(
        metrics=[
            metric("db_replica_lag", lambda m: 85.0 if 8 <= m <= 14 else 0.6, unit="s"),
            flat("db_transaction_log_generation", 7e6, unit="bytes/s"),
        ],
    )
    v = verdict(LAG, _lag_alert(), ev)
    assert ruled_out_or_weak(v, below=0.3)


def test_replica_lag_without_any_lag_signal_is_ruled_out() -> None:
    v = verdict(LAG, _lag_alert(), evidence(metrics=[flat("db_write_iops", 900)]))
    assert v.ruled_out is not None


# --- db_storage_full ---------------------------------------------------------------------

_PRIMARY = {"dbinstance_identifier": "ledger-db", "namespace": "ledger"}


def test_storage_filling_from_a_stuck_replication_slot() -> None:
    ev = evidence(
        metrics=[ramp("db_free_storage", 48 * GIB, 1.4 * GIB, since=50, unit="bytes")],
        log_entries=[
            *logs(
                'WARNING:  replication slot "debezium_ledger" is inactive and retains WAL',
                count=2,
                start=30,
            ),
            *logs(
                'ERROR:  could not extend file "base/16402/2619.3": No space left on device',
                count=4,
                start=3,
            ),
        ],
        events=[
            db_event(
                "The free storage capacity for DB Instance: ledger-db is low at 3% of the "
                "provisioned storage",
                "ledger-db",
                6,
                reason="low storage",
            )
        ],
    )
    alert = make_alert("AwsRdsLowFreeStorageSpace", severity="critical", **_PRIMARY)
    h = hypothesis(verdict(STORAGE, alert, ev))
    assert h.confidence >= 0.9
    assert h.cause.startswith("ledger-db is running out of storage")
    assert "replication slot" in h.cause
    assert any("full in ~" in s for s in h.signals)
    steps = " ".join(h.suggested_actions[0].steps)
    assert "pg_replication_slots" in steps and "pg_drop_replication_slot" in steps
    assert "confirm with its owner" in steps
    assert "--allocated-storage" in steps
    assert_safe(h)


def test_storage_time_to_full_comes_from_the_slope() -> None:
    # 30 GiB free, losing 100 MiB a minute: ~5 hours left.
    mib = 1024**2
    ev = evidence(
        metrics=[
            metric("db_free_storage", lambda m: 30 * GIB + m * 100 * mib, unit="bytes"),
            step("db_write_throughput", 20e6, 140e6, since=60, unit="bytes/s"),
        ]
    )
    h = hypothesis(verdict(STORAGE, make_alert("RDSFreeStorageSpaceLow", **_PRIMARY), ev))
    note = next(s for s in h.signals if "full in ~" in s)
    assert "5.1 h" in note or "5.0 h" in note or "5.2 h" in note
    assert "ledger-db" in h.cause


def test_storage_with_plenty_free_is_ruled_out() -> None:
    ev = evidence(metrics=[flat("db_free_storage", 310 * GIB, unit="bytes")])
    v = verdict(STORAGE, make_alert("AwsRdsLowFreeStorageSpace", **_PRIMARY), ev)
    assert v.ruled_out is not None


def test_storage_falling_slowly_with_lots_free_stays_weak() -> None:
    ev = evidence(
        metrics=[metric("db_free_storage", lambda m: 400 * GIB + m * 40 * 1024**2)],
    )
    v = verdict(STORAGE, make_alert("AwsRdsLowFreeStorageSpace", **_PRIMARY), ev)
    assert ruled_out_or_weak(v, below=0.3)


# --- db_runaway_query --------------------------------------------------------------------

_CATALOG = {"dbinstance_identifier": "catalog-db", "namespace": "catalog"}
_RUNAWAY_SQL = (
    "SELECT p.*, count(r.id) FROM products p LEFT JOIN reviews r ON r.product_id = p.id "
    "WHERE lower(p.title) LIKE $1 GROUP BY p.id"
)


def _runaway_evidence(top_load: float) -> EvidenceSet:
    ev = evidence(
        metrics=[
            step("db_cpu_utilisation", 0.32, 0.97, since=12, unit="ratio"),
            flat("db_connections", 140),
            flat("db_max_connections", 1000),
            flat("db_checkpoints", 0.0033),
            flat("request_rate", 420),
        ],
        log_entries=logs(
            f"LOG:  duration: 48211.532 ms  execute <unnamed>: {_RUNAWAY_SQL}", count=4
        ),
    )
    return with_db(
        ev,
        activity(
            "catalog-db",
            [
                (
                    _RUNAWAY_SQL,
                    top_load,
                    {"CPU": top_load * 0.8, "IO:DataFileRead": top_load * 0.2},
                ),
                ("SELECT * FROM products WHERE id = $1", 0.9, {"CPU": 0.9}),
                (
                    "INSERT INTO page_views (product_id, at) VALUES ($1, $2)",
                    0.4,
                    {"CPU": 0.2, "IO:WALWrite": 0.2},
                ),
            ],
        ),
    )


def test_one_statement_eating_the_cpu_is_a_runaway_query() -> None:
    alert = make_alert("AwsRdsHighCpuUtilization", severity="warning", **_CATALOG)
    h = hypothesis(verdict(RUNAWAY, alert, _runaway_evidence(top_load=7.5)))
    assert h.confidence >= 0.85
    assert "catalog-db" in h.cause and "SELECT p.*" in h.cause
    assert any("% of the database load" in s for s in h.signals)
    assert action_types(h) == ["manual_only"]
    steps = " ".join(h.suggested_actions[0].steps)
    assert "pg_cancel_backend" in steps and "pg_terminate_backend" in steps
    assert "EXPLAIN" in steps
    assert_safe(h)


def test_general_traffic_growth_is_not_a_runaway_query() -> None:
    statements = [
        (f"SELECT * FROM t{i} WHERE id = $1", 0.9 + i * 0.05, {"CPU": 0.9}) for i in range(10)
    ]
    ev = evidence(
        metrics=[
            step("db_cpu_utilisation", 0.4, 0.93, since=12, unit="ratio"),
            step("request_rate", 400, 1050, since=13),
            step("db_connections", 150, 420, since=13),
            flat("db_max_connections", 1000),
        ]
    )
    ev = with_db(ev, activity("catalog-db", statements))
    alert = make_alert("AwsRdsHighCpuUtilization", **_CATALOG)
    v = verdict(RUNAWAY, alert, ev)
    assert ruled_out_or_weak(v, below=0.3)


def test_database_cpu_without_statement_activity_is_not_confident() -> None:
    ev = evidence(metrics=[step("db_cpu_utilisation", 0.35, 0.95, since=12, unit="ratio")])
    v = verdict(RUNAWAY, make_alert("AwsRdsHighCpuUtilization", **_CATALOG), ev)
    assert ruled_out_or_weak(v, below=0.6)


def test_runaway_query_on_an_app_latency_alert_needs_database_evidence() -> None:
    ev = evidence(metrics=[step("latency_p99", 0.2, 2.4, since=10, unit="seconds")])
    v = verdict(RUNAWAY, make_alert("HighLatency", namespace="shop", service="cart"), ev)
    assert v.ruled_out is not None


# --- db_checkpoint_storm -----------------------------------------------------------------

_EVENTS_DB = {"dbinstance_identifier": "events-db", "namespace": "events"}


def _storm_evidence() -> EvidenceSet:
    ev = evidence(
        metrics=[
            step("db_checkpoints", 0.0033, 0.06, since=14, unit="checkpoints/s"),
            step("db_transaction_log_generation", 8e6, 160e6, since=15, unit="bytes/s"),
            step("db_write_iops", 1200, 9800, since=14),
            step("db_write_throughput", 30e6, 310e6, since=14, unit="bytes/s"),
            step("db_commit_latency", 0.003, 0.042, since=13, unit="seconds"),
            step("db_cpu_utilisation", 0.3, 0.82, since=13, unit="ratio"),
            flat("db_read_iops", 600),
        ],
        log_entries=[
            *logs(
                "LOG:  checkpoints are occurring too frequently (9 seconds apart)",
                count=6,
                start=12,
            ),
            *logs(
                'HINT:  Consider increasing the configuration parameter "max_wal_size".',
                count=6,
                start=12,
            ),
            *logs("LOG:  checkpoint starting: wal", count=6, start=12),
        ],
    )
    return with_db(
        ev,
        activity(
            "events-db",
            [
                (
                    "COPY events_2026_05 (id, kind, payload, at) FROM STDIN",
                    5.0,
                    {
                        "IO:WALWrite": 2.0,
                        "LWLock:WALWrite": 1.5,
                        "IO:DataFileWrite": 1.0,
                        "CPU": 0.5,
                    },
                ),
                (
                    "SELECT * FROM events WHERE kind = $1 LIMIT 50",
                    1.2,
                    {"CPU": 0.7, "IO:DataFileRead": 0.5},
                ),
                ("COMMIT", 1.8, {"IO:WALSync": 1.8}),
            ],
        ),
    )


def test_write_burst_checkpoint_storm() -> None:
    alert = make_alert("AuroraCommitLatencyHigh", severity="warning", **_EVENTS_DB)
    h = hypothesis(verdict(CHECKPOINT, alert, _storm_evidence()))
    assert h.confidence >= 0.9
    assert "events-db" in h.cause and "COPY events_2026_05" in h.cause
    assert any("too frequently" in s for s in h.signals)
    assert any("WAL burst began" in s for s in h.signals)
    steps = " ".join(h.suggested_actions[0].steps)
    assert "max_wal_size" in steps and "pg_stat_bgwriter" in steps
    assert_safe(h)


def test_checkpoint_storm_is_not_a_runaway_query() -> None:
    alert = make_alert("AwsRdsHighCpuUtilization", **_EVENTS_DB)
    assert ruled_out_or_weak(verdict(RUNAWAY, alert, _storm_evidence()), below=0.4)


def test_read_heavy_runaway_query_is_not_a_checkpoint_storm() -> None:
    alert = make_alert("AwsRdsHighCpuUtilization", **_CATALOG)
    v = verdict(CHECKPOINT, alert, _runaway_evidence(top_load=7.5))
    assert v.ruled_out is not None


def test_ordinary_timed_checkpoints_are_ruled_out() -> None:
    ev = evidence(
        metrics=[flat("db_checkpoints", 0.0033), step("db_write_iops", 1000, 1900, since=10)],
        log_entries=logs(
            "LOG:  checkpoint complete: wrote 3011 buffers (2.3%); 0 WAL file(s) added, "
            "0 removed, 1 recycled",
            count=2,
        ),
    )
    v = verdict(CHECKPOINT, make_alert("AwsRdsHighWriteIops", **_EVENTS_DB), ev)
    assert v.ruled_out is not None


# --- db_failover -------------------------------------------------------------------------

_PAY = {"dbinstance_identifier": "payments-db", "namespace": "payments"}


def _connections_dip(back: bool) -> MetricEvidence:
    def level(m: float) -> float:
        if 3 <= m <= 6 or (not back and m < 3):
            return 0.0
        return 310.0

    return metric("db_connections", level)


def test_completed_multi_az_failover_says_so_and_asks_nothing_of_the_database() -> None:
    ev = evidence(
        metrics=[_connections_dip(back=True)],
        events=[
            db_event("Multi-AZ instance failover started.", "payments-db", 7),
            db_event("DB instance restarted", "payments-db", 5, reason="availability"),
            db_event("Multi-AZ instance failover completed.", "payments-db", 4),
        ],
        log_entries=[
            *logs(
                "org.postgresql.util.PSQLException: Connection to payments-db.cluster-x.eu-west-1"
                ".rds.amazonaws.com:5432 refused. Check that the hostname and port are correct "
                "and that the postmaster is accepting TCP/IP connections.",
                count=9,
                start=7,
                app="payments-api",
            ),
            log("GET /v1/payments/8812 200 14ms", minutes=1, app="payments-api"),
        ],
    )
    alert = make_alert("PostgresqlDown", severity="critical", **_PAY)
    h = hypothesis(verdict(FAILOVER, alert, ev))
    assert h.confidence >= 0.9
    assert h.cause.startswith("payments-db failed over") and "completed" in h.cause
    assert action_types(h) == ["manual_only"]
    steps = " ".join(h.suggested_actions[0].steps)
    assert h.suggested_actions[0].steps[0].startswith("the failover has completed")
    assert "no database action is needed" in steps and "old primary's IP" in steps
    assert_safe(h)


def test_failover_in_progress_is_reported_as_in_progress() -> None:
    ev = evidence(
        metrics=[_connections_dip(back=False)],
        events=[db_event("Multi-AZ instance failover started.", "payments-db", 4)],
        log_entries=logs(
            'psycopg2.OperationalError: connection to server at "payments-db" (10.0.4.12), '
            "port 5432 failed: Connection refused",
            count=12,
            start=4,
            app="payments-api",
        ),
    )
    h = hypothesis(verdict(FAILOVER, make_alert("PostgresqlDown", **_PAY), ev))
    assert h.confidence >= 0.85
    assert "in progress" in h.cause
    steps = " ".join(h.suggested_actions[0].steps)
    assert "do not reboot or trigger another failover" in steps
    assert_safe(h)


def test_patroni_promotion_in_logs_is_a_failover() -> None:
    ev = evidence(
        metrics=[_connections_dip(back=True)],
        log_entries=[
            log("INFO: promoted self to leader by acquiring session lock", 6, app="pg-main"),
            log("LOG:  received promote request", 6, app="pg-main"),
            log("LOG:  selected new timeline ID: 7", 6, app="pg-main"),
        ],
    )
    alert = make_alert("PatroniHasNoLeader", namespace="data", service="pg-main", severity="high")
    h = hypothesis(verdict(FAILOVER, alert, ev))
    assert h.confidence >= 0.6
    assert "pg-main" in h.cause
    assert_safe(h)


def test_connection_errors_without_a_failover_are_not_a_failover() -> None:
    ev = evidence(
        metrics=[flat("db_connections", 300)],
        log_entries=logs("dial tcp 10.0.4.12:5432: connect: connection refused", count=20),
    )
    v = verdict(FAILOVER, make_alert("PostgresqlDown", **_PAY), ev)
    assert v.ruled_out is not None


# --- every database pattern --------------------------------------------------------------


@pytest.mark.parametrize("pattern", DB_PATTERNS, ids=lambda p: p.id)
def test_nothing_database_related_rules_every_pattern_out(pattern: Pattern) -> None:
    ev = evidence(
        metrics=[step("latency_p99", 0.2, 1.9, since=10), flat("error_rate", 0.01)],
        log_entries=logs("GET /cart 200 1800ms", count=10, app="cart"),
    )
    v = verdict(pattern, make_alert("HighLatency", namespace="shop", service="cart"), ev)
    assert v.ruled_out is not None


def test_instance_name_falls_back_to_the_database_activity() -> None:
    alert = make_alert("DBLoadHigh", namespace="catalog", severity="warning")
    h = hypothesis(verdict(RUNAWAY, alert, _runaway_evidence(top_load=7.5)))
    assert "catalog-db" in h.cause
    assert h.affected_components == ["catalog-db"]


def test_instance_label_loses_its_port_and_domain() -> None:
    alert = make_alert(
        "PostgresqlReplicationLag",
        namespace="orders",
        instance="orders-db-replica-1.abc123.eu-west-1.rds.amazonaws.com:5432",
    )
    ev = evidence(metrics=[ramp("db_replica_lag", 0.5, 240, since=12, unit="s")])
    h = hypothesis(verdict(LAG, alert, ev))
    assert h.affected_components == ["orders-db-replica-1"]


# --- connection_pool_exhaustion: server-side signals from the new evidence ----------------

CPE = connection_pool_exhaustion.PATTERN


def test_rds_connections_at_max_with_idle_in_transaction_sessions() -> None:
    ev = evidence(
        metrics=[ramp("db_connections", 180, 1985, since=30), flat("db_max_connections", 2000)],
        log_entries=logs(
            "FATAL:  remaining connection slots are reserved for non-replication superuser "
            "connections",
            count=8,
            app="billing-api",
        ),
    )
    ev = with_db(
        ev,
        activity(
            "billing-db",
            [
                (
                    "UPDATE invoices SET state = $1 WHERE id = $2",
                    14.0,
                    {"Client:ClientRead": 13.0, "CPU": 1.0},
                )
            ],
            sessions={"active": 40, "idle": 320, "idle in transaction": 1620},
            max_connections=2000,
        ),
    )
    alert = make_alert("AwsRdsHighDatabaseConnections", namespace="billing", severity="critical")
    h = hypothesis(verdict(CPE, alert, ev))
    assert h.confidence >= 0.85
    assert h.affected_components == ["billing-db"]
    assert action_types(h) == ["terminate_db_connections"]
    assert h.suggested_actions[0].risk is Risk.MEDIUM
    assert any("Client:ClientRead" in s for s in h.signals)


def test_terminate_action_carries_the_parameter_the_postgres_executor_reads() -> None:
    ev = evidence(
        metrics=[flat("db_connections", 1990), flat("db_max_connections", 2000)],
        log_entries=logs("FATAL:  sorry, too many clients already", count=5),
    )
    ev = with_db(
        ev,
        activity(
            "billing-db",
            [("SELECT 1", 1.0, {"Client:ClientRead": 1.0})],
            sessions={"active": 30, "idle": 260, "idle in transaction": 1700},
            max_connections=2000,
        ),
    )
    h = hypothesis(verdict(CPE, make_alert("PostgresqlTooManyConnections", namespace="b"), ev))
    criteria, problems = parse_criteria(h.suggested_actions[0], PostgresActionSettings())
    assert problems == []
    assert criteria is not None and criteria.idle_seconds == 300


def test_server_full_of_busy_sessions_from_activity_goes_to_a_person() -> None:
    ev = evidence(
        log_entries=logs("FATAL:  sorry, too many clients already", count=5, app="orders-api")
    )
    ev = with_db(
        ev,
        activity(
            "orders-db",
            [("SELECT * FROM orders WHERE customer_id = $1", 30.0, {"CPU": 30.0})],
            sessions={"active": 190, "idle": 8},
            max_connections=200,
        ),
    )
    alert = make_alert("PostgresqlTooManyConnections", namespace="orders", severity="critical")
    h = hypothesis(verdict(CPE, alert, ev))
    assert h.confidence >= 0.7
    assert action_types(h) == ["manual_only"]
    assert any("max_connections" in s for s in h.signals)


def test_connections_with_headroom_do_not_make_a_pool_exhaustion() -> None:
    ev = evidence(metrics=[flat("db_connections", 300), flat("db_max_connections", 2000)])
    v = verdict(CPE, make_alert("AwsRdsHighDatabaseConnections", namespace="billing"), ev)
    assert v.ruled_out is not None


# --- the bundled database scenarios, replayed and gathered as the graph does ----------------


@pytest.mark.parametrize(
    ("scenario", "pattern_id", "instance", "phrase"),
    [
        ("replication-lag-backfill-orders", "db_replication_lag", "orders-db-replica-1", "WAL"),
        ("storage-full-stale-slot-ledger", "db_storage_full", "ledger-db", "replication slot"),
        ("runaway-query-report-catalog", "db_runaway_query", "catalog-db", "SELECT p.sku"),
        ("checkpoint-storm-bulk-load-events", "db_checkpoint_storm", "events-postgres", "COPY"),
        ("failover-multi-az-completed-payments", "db_failover", "payments-db", "completed"),
    ],
)
def test_bundled_database_scenarios(
    scenario: str, pattern_id: str, instance: str, phrase: str
) -> None:
    _, _, found = bundle_verdict(scenario, pattern_id)
    h = hypothesis(found)
    assert h.confidence >= 0.8
    assert h.affected_components == [instance]
    assert instance in h.cause
    assert phrase in h.cause or any(phrase in s for s in h.signals)
    assert action_types(h) == ["manual_only"]
    assert_safe(h)


# --- the causes each pattern tells apart -------------------------------------------------


def test_replica_that_lost_its_wal_must_be_reseeded() -> None:
    ev = evidence(
        metrics=[ramp("db_replica_lag", 2, 2400, since=30, unit="s")],
        log_entries=logs(
            "FATAL:  could not receive data from WAL stream: ERROR:  requested WAL segment "
            "00000001000004A10000009C has already been removed",
            count=6,
            app="orders-db-replica-1",
        ),
    )
    h = hypothesis(verdict(LAG, _lag_alert(), ev))
    assert h.confidence >= 0.8
    assert "re-seeded" in h.cause
    assert any("re-created from a fresh base backup" in s for s in h.suggested_actions[0].steps)
    assert_safe(h)


def test_storage_eaten_by_temporary_files_names_the_query_as_filler() -> None:
    ev = evidence(
        metrics=[ramp("db_free_storage", 22 * GIB, 1.1 * GIB, since=20, unit="bytes")],
        log_entries=logs(
            'LOG:  temporary file: path "base/pgsql_tmp/pgsql_tmp20817.3", size 1073741824',
            count=12,
            start=18,
        ),
    )
    h = hypothesis(verdict(STORAGE, make_alert("PostgresqlDiskSpaceLow", **_PRIMARY), ev))
    assert h.confidence >= 0.8
    assert "temporary files" in h.cause
    assert any("temp_file_limit" in s for s in h.suggested_actions[0].steps)
    assert_safe(h)


def test_storage_held_by_failing_archiving() -> None:
    ev = evidence(
        metrics=[ramp("db_free_storage", 30 * GIB, 1.5 * GIB, since=55, unit="bytes")],
        log_entries=logs(
            "LOG:  archive command failed with exit code 1  DETAIL:  The failed archive command "
            'was: wal-g wal-push "pg_wal/0000000100000A2B000000C1"',
            count=8,
        ),
    )
    h = hypothesis(verdict(STORAGE, make_alert("PostgresqlDiskSpaceLow", **_PRIMARY), ev))
    assert "archiving" in h.cause
    assert any("archive_command succeeds" in s for s in h.suggested_actions[0].steps)


def test_a_few_heavy_statements_are_named_with_less_confidence_than_one() -> None:
    statements = [
        ("SELECT * FROM reviews WHERE product_id = ANY($1) ORDER BY created_at", 3.0, {"CPU": 3.0}),
        (
            "SELECT count(*) FROM order_items WHERE sku = $1",
            2.8,
            {"CPU": 2.6, "IO:DataFileRead": 0.2},
        ),
        ("SELECT * FROM products WHERE lower(title) LIKE $1", 2.6, {"CPU": 2.6}),
        ("SELECT id FROM stock WHERE sku = $1", 0.9, {"CPU": 0.9}),
        ("SELECT 1", 0.4, {"CPU": 0.4}),
    ]
    ev = evidence(metrics=[step("db_cpu_utilisation", 0.3, 0.95, since=12, unit="ratio")])
    ev = with_db(ev, activity("catalog-db", statements))
    alert = make_alert("AwsRdsHighCpuUtilization", **_CATALOG)
    few = hypothesis(verdict(RUNAWAY, alert, ev))
    one = hypothesis(verdict(RUNAWAY, alert, _runaway_evidence(top_load=7.5)))
    assert "a few statements" in few.cause
    assert 0.2 <= few.confidence < one.confidence


def test_a_reboot_without_failover_is_a_restart() -> None:
    ev = evidence(
        metrics=[_connections_dip(back=True)],
        events=[db_event("DB instance restarted", "payments-db", 5, reason="availability")],
        log_entries=logs(
            "FATAL:  the database system is starting up", count=4, start=6, app="payments-api"
        ),
    )
    h = hypothesis(verdict(FAILOVER, make_alert("PostgresqlRestarted", **_PAY), ev))
    assert "restarted" in h.cause and "failed over" not in h.cause
    assert h.confidence >= 0.5
    assert_safe(h)


def test_clients_refused_as_read_only_after_a_failover_point_at_a_stale_endpoint() -> None:
    ev = evidence(
        metrics=[_connections_dip(back=True)],
        events=[
            db_event("Started failover of DB cluster payments-aurora", "payments-db", 8),
            db_event("Completed failover of DB cluster payments-aurora", "payments-db", 6),
        ],
        log_entries=logs(
            "ERROR: cannot execute UPDATE in a read-only transaction",
            count=9,
            start=4,
            app="payments-worker",
        ),
    )
    h = hypothesis(verdict(FAILOVER, make_alert("AuroraFailover", **_PAY), ev))
    assert "completed" in h.cause and "old primary's address" in h.cause
    assert any("read-only" in s for s in h.signals)
    assert_safe(h)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("AwsRdsReplicaLagHigh", {"db_replication_lag"}),
        ("PostgresqlReplicationLag", {"db_replication_lag"}),
        ("AwsRdsLowFreeStorageSpace", {"db_storage_full"}),
        ("PostgresqlUnusedReplicationSlot", {"db_storage_full"}),
        ("AwsRdsHighCpuUtilization", {"db_runaway_query"}),
        ("PostgresqlCheckpointsRequestedHigh", {"db_checkpoint_storm"}),
        ("AuroraCommitLatencyHigh", {"db_checkpoint_storm", "db_runaway_query"}),
        ("PatroniHasNoLeader", {"db_failover"}),
        ("PostgresqlDown", {"db_failover"}),
        ("PostgresqlTooManyConnections", set()),
        ("KubePersistentVolumeFillingUp", set()),
        ("NodeDiskIOSaturation", set()),
        ("KubeDeploymentReplicasMismatch", set()),
    ],
)
def test_alert_names_point_at_the_right_database_pattern(name: str, expected: set[str]) -> None:
    """The names are the prior: a database pattern must not claim alerts it does not explain
    (words are matched case-insensitively, so 'IO' must not match inside 'Connections')."""
    claimed = {p.id for p in DB_PATTERNS if p.applies_to(make_alert(name))}
    assert claimed == expected
