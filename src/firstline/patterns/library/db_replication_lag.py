"""Replication lag: a PostgreSQL replica (streaming standby, RDS read replica, Aurora reader)
replays its primary's WAL later and later, so reads from it are stale.

Typical alerts: PostgresqlReplicationLag, AwsRdsReplicaLagHigh, AuroraReplicaLagHigh,
PatroniReplicationLag. The key signal is the lag itself (`db_replica_lag`) high and rising,
still high at the end of the window; a lag that spiked and came back is a blip, not an
incident. The standby's own log lines corroborate and point at a cause: "canceling statement
due to conflict with recovery" (replay conflicts with queries on the replica), "could not
receive data from WAL stream" / "replication terminated by primary server" (the stream or
the network broke), "requested WAL segment ... has already been removed" (the replica can no
longer catch up and must be re-seeded).

Which side is slow decides the fix, and the onset times tell them apart:
- a write burst on the primary: WAL generation (`db_transaction_log_generation`) or write
  IOPS rose first (or with the lag), often one bulk-writing statement: throttle or pause
  the writer and the replica catches up;
- a starved replica: its read latency, disk queue or CPU rose while the primary's WAL rate
  stayed flat: the replica is undersized or overloaded by read traffic;
- a long transaction or a conflict on the replica holds replay back.

What is ruled out: a lag metric that is normal or already back to its baseline, and lag on a
database where nothing about replication was observed.

Remediation is always `manual_only`: read pg_stat_replication and the replay position,
find the writer, consider pausing the batch job. Failing over to a lagging replica would
lose the writes it has not replayed, so this pattern never proposes it.
"""

from __future__ import annotations

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import MetricEvidence
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard
from firstline.patterns.library import db_common as db

LAG_HIGH_SECONDS = 30.0
LAG_NOTABLE_SECONDS = 10.0

CONFLICT_LINES = (
    "conflict with recovery",
    "canceling statement due to conflict",
    "user was holding a relation lock for too long",
    "user query might have needed to see row versions that must be removed",
)
STREAM_LINES = (
    "could not receive data from wal stream",
    "replication terminated by primary server",
    "could not connect to the primary server",
    "terminating walreceiver",
    "terminating walsender process due to replication timeout",
)
REMOVED_LINES = ("has already been removed",)
_METRICS = (queries.DB_REPLICA_LAG.name,)


def _recovered(lag: MetricEvidence) -> bool:
    """The lag spiked in the last half hour but is back near its usual level."""
    top = db.peak(lag, 30) or 0.0
    last = db.recent(lag, 3) or 0.0
    return top >= LAG_NOTABLE_SECONDS and last < max(LAG_NOTABLE_SECONDS / 2, 0.25 * top)


class _Side:
    """What the evidence says about where the lag comes from."""

    def __init__(self, ctx: PatternContext) -> None:
        ev = ctx.evidence
        self.lag = ev.metric(queries.DB_REPLICA_LAG.name)
        self.wal = ev.metric(queries.DB_TRANSACTION_LOG_GENERATION.name)
        self.write_iops = ev.metric(queries.DB_WRITE_IOPS.name)
        self.read_latency = ev.metric(queries.DB_READ_LATENCY.name)
        self.queue = ev.metric(queries.DB_DISK_QUEUE_DEPTH.name)
        self.cpu = ev.metric(queries.DB_CPU_UTILISATION.name)
        lag_onset = db.onset(self.lag)
        wal_onset = db.onset(self.wal) or db.onset(self.write_iops)
        self.write_burst = db.rising(self.wal) or (self.wal is None and db.rising(self.write_iops))
        self.burst_first = bool(
            self.write_burst and wal_onset and lag_onset and wal_onset <= lag_onset
        )
        self.wal_flat = self.wal is not None and not db.rising(self.wal)
        starved = db.rising_ones(self.read_latency, self.queue)
        cpu_busy = (db.recent(self.cpu) or 0.0) >= 0.9 and db.rising(self.cpu)
        self.replica_starved = self.wal_flat and bool(starved or cpu_busy)
        self.starved_by = [m.name for m in starved] + (["db_cpu_utilisation"] if cpu_busy else [])
        activity = db.activity(ctx)
        writers = [s for s in db.top_statements(activity) if db.is_write(s)] if activity else []
        self.writer = writers[0] if writers else None
        self.conflicts = db.log_count(ctx, *CONFLICT_LINES)
        self.stream = db.log_count(ctx, *STREAM_LINES)
        self.removed = db.log_count(ctx, *REMOVED_LINES)


class DbReplicationLag(Pattern):
    id = "db_replication_lag"
    title = "Database replica falling behind"
    default_severity = Severity.MEDIUM
    alert_names = (
        r".*Replica(tion)?.?Lag.*",
        r".*Replication.*(Behind|Delay|Broken|Stopped|Slot.*Lag).*",
        r".*Replica.*(Behind|Delay).*",
        r".*Standby.*(Lag|Behind|Delay).*",
        r"Patroni.*Lag.*",
        r".*(Wal|WAL)Receiver.*",
    )
    reads = ("databases", "events", "logs", "related_alerts")
    confirm_with = (
        "replay_lag in pg_stat_replication on the primary",
        "WAL generation on the primary vs IO/CPU of the replica, and which rose first",
    )
    metrics = (
        queries.DB_REPLICA_LAG,
        queries.DB_TRANSACTION_LOG_GENERATION,
        queries.DB_WRITE_IOPS,
        queries.DB_WRITE_THROUGHPUT,
        queries.DB_READ_LATENCY,
        queries.DB_DISK_QUEUE_DEPTH,
        queries.DB_CPU_UTILISATION,
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        s = _Side(ctx)
        activity = db.activity(ctx)
        lag = s.lag
        lag_ref = f"metric:{queries.DB_REPLICA_LAG.name}"
        level = db.recent(lag, 3)
        recovered = lag is not None and _recovered(lag)
        high = level is not None and level >= LAG_HIGH_SECONDS and not recovered
        notable = level is not None and LAG_NOTABLE_SECONDS <= level < LAG_HIGH_SECONDS
        rising = db.rising(lag) and not recovered
        card.add(
            high and rising,
            3.0,
            f"replica lag {lag.findings[0].sentence} (now ~{db.human_duration(level or 0)})"
            if lag and lag.anomalous
            else "",
            lag_ref,
        )
        card.add(
            high and not rising,
            2.0,
            f"replica lag is high (~{db.human_duration(level or 0)})",
            lag_ref,
        )
        card.add(
            notable and rising,
            1.5,
            f"replica lag rose to ~{level or 0:.0f}s",
            lag_ref,
        )
        card.add(
            recovered,
            -2.0,
            f"replica lag peaked at ~{db.peak(lag, 30) or 0:.0f}s but is back to "
            f"~{db.recent(lag, 3) or 0:.0f}s",
            lag_ref,
        )
        card.add(
            lag is not None and not recovered and not high and not notable and not rising,
            -2.0,
            f"replica lag is normal (~{level or 0:.1f}s)",
            lag_ref,
        )
        reported = ctx.signals.of("db_replication", in_scope=None)
        card.add(
            bool(reported) and not recovered,
            2.0 if lag is None else 0.5,  # without the metric, the database's own word is it
            f"the database reports it: {reported[0].summary}" if reported else "",
            reported[0].ref if reported else None,
        )
        card.add(
            s.removed > 0,
            1.5,
            "the standby asks for WAL its primary has already removed: it cannot catch up",
            "logs",
        )
        card.add(
            s.stream > 0,
            0.75,
            f"{s.stream} log line(s) of the WAL stream breaking",
            "logs",
        )
        card.add(
            s.conflicts > 0,
            0.5,
            f"{s.conflicts} log line(s) of queries on the replica conflicting with replay",
            "logs",
        )
        wal_ref = f"metric:{queries.DB_TRANSACTION_LOG_GENERATION.name}"
        burst_metric = s.wal if db.rising(s.wal) else s.write_iops
        card.add(
            s.burst_first and (high or notable or rising),
            1.0,
            f"WAL generation on the primary rose at {db.clock(db.onset(burst_metric))}, before "
            f"the lag started at {db.clock(db.onset(lag))}"
            if burst_metric
            else "",
            burst_metric.id if burst_metric else wal_ref,
        )
        card.add(
            s.write_burst and not s.burst_first and (high or notable or rising),
            0.5,
            f"{burst_metric.name} {burst_metric.findings[0].sentence}"
            if burst_metric and burst_metric.anomalous
            else "",
            burst_metric.id if burst_metric else wal_ref,
        )
        card.add(
            s.replica_starved and (high or notable or rising),
            0.75,
            f"the primary's WAL rate is flat while the replica's {', '.join(s.starved_by)} rose",
            f"metric:{s.starved_by[0]}" if s.starved_by else None,
        )
        card.add(
            bool(s.writer) and s.write_burst,
            0.25,
            f"the heaviest writer is `{db.short(s.writer.statement)}`" if s.writer else "",
            activity.id if activity else None,
        )
        card.add(
            lag is None and not (s.removed or s.stream or s.conflicts or reported),
            -2.5,
            "no replica lag series and no replication errors in the logs",
        )
        name = db.instance_name(ctx, _METRICS)
        return card, self._cause(name, s, high or notable or rising), [name]

    @staticmethod
    def _cause(name: str, s: _Side, lagging: bool) -> str:
        if s.removed:
            return (
                f"replica {name} lost its WAL stream and needs WAL segments its primary has "
                "already removed, so it cannot catch up without being re-seeded"
            )
        if not lagging:
            return f"replica {name} lagged briefly but its replay has caught up"
        if s.write_burst:
            writer = f" (`{db.short(s.writer.statement, 60)}`)" if s.writer else ""
            return (
                f"replica {name} falls behind because its primary writes a burst of WAL"
                f"{writer} faster than the replica replays it"
            )
        if s.replica_starved:
            return (
                f"replica {name} falls behind because it is itself starved "
                f"({', '.join(s.starved_by)}) while the primary's write rate is normal"
            )
        if s.stream:
            return f"replica {name} falls behind because its WAL stream from the primary breaks"
        if s.conflicts:
            return (
                f"replica {name} falls behind: replay waits on queries running on the replica "
                "(recovery conflicts)"
            )
        return f"replica {name} is falling behind its primary"

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        name = components[0]
        s = _Side(ctx)
        steps = [
            "on the primary: SELECT application_name, client_addr, state, sync_state, "
            "write_lag, flush_lag, replay_lag, "
            "pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) AS behind "
            "FROM pg_stat_replication;",
            f"on {name}: SELECT now() - pg_last_xact_replay_timestamp() AS replay_delay, "
            "pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn();",
            "on the primary, find long or write-heavy transactions: SELECT pid, "
            "application_name, now() - xact_start AS xact_age, state, left(query, 120) "
            "FROM pg_stat_activity WHERE xact_start IS NOT NULL ORDER BY xact_start LIMIT 10;",
            "and the statements writing most WAL (PostgreSQL 13+): SELECT queryid, calls, "
            "pg_size_pretty(wal_bytes) AS wal, left(query, 120) FROM pg_stat_statements "
            "ORDER BY wal_bytes DESC LIMIT 10;",
        ]
        if s.write_burst:
            writer = f" (`{db.short(s.writer.statement, 60)}`)" if s.writer else ""
            steps.append(
                f"if a batch job or migration is the writer{writer}, pause it or run it in "
                "smaller batches; the replica catches up once the WAL rate drops"
            )
        if s.replica_starved:
            steps.append(
                f"{name} is short of IO/CPU: move read traffic off it, or give it a larger "
                "instance class / more IOPS (aws rds modify-db-instance "
                f"--db-instance-identifier {name} --db-instance-class <class>)"
            )
        if s.conflicts:
            steps.append(
                "replay waits on replica queries: check max_standby_streaming_delay and "
                "hot_standby_feedback, and the long queries running on the replica"
            )
        if s.removed:
            steps.append(
                f"{name} needs WAL the primary no longer has: it must be re-created from a "
                "fresh base backup (RDS: delete and re-create the read replica)"
            )
        steps += [
            f"while the lag is high, route reads that need fresh data away from {name}",
            f"aws cloudwatch get-metric-statistics --namespace AWS/RDS --metric-name ReplicaLag "
            f"--dimensions Name=DBInstanceIdentifier,Value={name} --statistics Maximum "
            "--period 60 --start-time <1h ago> --end-time <now>",
            "do not promote or fail over to a lagging replica: it would lose the writes it "
            "has not replayed",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="database", name=name, namespace=ctx.namespace),
                rationale="replication lag is fixed at its source (the writer on the primary "
                "or the replica's capacity); which one is a person's call",
                steps=steps,
            )
        ]


PATTERN = DbReplicationLag()
