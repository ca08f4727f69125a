"""Checkpoint storm: a burst of writes makes PostgreSQL checkpoint far more often than its
timeout (each one requested because max_wal_size filled up), so the server spends its IO
and CPU flushing pages and writing full-page images into WAL, and commits slow down.

Typical alerts: PostgresqlCheckpointsTooFrequent, high write IOPS / disk queue / write or
commit latency on RDS and Aurora (AwsRdsHighWriteLatency, AuroraCommitLatencyHigh), and the
HighLatency of the services writing to it. The key signals are checkpoints per second
(`db_checkpoints`, pg_stat_bgwriter requested + timed) rising well above their usual rate,
and the server's own warning "checkpoints are occurring too frequently". Load dominated by
write and WAL waits (`IO:DataFileWrite`, `IO:WALWrite`, `LWLock:WALWrite`,
`IO:DataFileSync`), write IOPS/throughput, disk queue depth, write and commit latency and
WAL generation (`db_transaction_log_generation`) rising corroborate; WAL generation rising
at or before the checkpoints points at the bulk writer as the cause.

What is ruled out: a read-heavy runaway query (load on CPU or `IO:DataFileRead` of one
SELECT, writes and checkpoints flat; that is db_runaway_query), and ordinary, timed
checkpoints at their usual rate.

Remediation is `manual_only`: confirm requested vs timed checkpoints, find and throttle the
bulk writer, and tune max_wal_size / checkpoint_timeout / checkpoint_completion_target in a
planned change.
"""

from __future__ import annotations

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import MetricEvidence, StatementActivity
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard
from firstline.patterns.library import db_common as db

FREQUENT_LINES = ("checkpoints are occurring too frequently",)
CHECKPOINT_LINES = ("checkpoint starting: wal", "checkpoint starting: xlog")
READ_SHARE = 0.5
WRITE_SHARE = 0.4
_METRICS = (queries.DB_CHECKPOINTS.name,)


def _writer(ctx: PatternContext) -> StatementActivity | None:
    activity = db.activity(ctx)
    if activity is None:
        return None
    writers = [s for s in db.top_statements(activity) if db.is_write(s)]
    return writers[0] if writers else None


def _sentence(metric: MetricEvidence) -> str:
    return f"{metric.name} {metric.findings[0].sentence}"


class DbCheckpointStorm(Pattern):
    id = "db_checkpoint_storm"
    title = "Checkpoint storm from a write burst"
    default_severity = Severity.MEDIUM
    alert_names = (
        r".*Checkpoint.*",
        r"AwsRds.*(Iops|Write|Queue|Latency).*",
        r".*(RDS|Aurora|Postgres|PostgreSQL|Database|DB).*"
        r"(IOPS|DiskIO|IOWait|IOSaturat|Write|CommitLatency|WAL|Queue).*",
        r".*Commit.?Latency.*",
        r".*Write.?Latency.*",
        r".*DiskQueue.*",
    )
    reads = ("databases", "logs")
    confirm_with = (
        "checkpoints_req vs checkpoints_timed in pg_stat_bgwriter",
        "the bulk writer in pg_stat_activity and WAL generation",
    )
    metrics = (
        queries.DB_CHECKPOINTS,
        queries.DB_TRANSACTION_LOG_GENERATION,
        queries.DB_WRITE_IOPS,
        queries.DB_WRITE_THROUGHPUT,
        queries.DB_WRITE_LATENCY,
        queries.DB_COMMIT_LATENCY,
        queries.DB_DISK_QUEUE_DEPTH,
        queries.DB_CPU_UTILISATION,
        queries.DB_READ_IOPS,
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        checkpoints = ev.metric(queries.DB_CHECKPOINTS.name)
        cp_ref = f"metric:{queries.DB_CHECKPOINTS.name}"
        grew = db.ratio(checkpoints)
        frequent = db.rising(checkpoints) and (grew is None or grew >= 2.0)
        card.add(
            frequent,
            2.0,
            f"checkpoints {checkpoints.findings[0].sentence}"
            if checkpoints and checkpoints.anomalous
            else "",
            cp_ref,
        )
        warned = db.log_count(ctx, *FREQUENT_LINES)
        card.add(
            warned > 0,
            2.0 if not frequent else 1.0,
            f"PostgreSQL warns {warned} time(s) that checkpoints are occurring too frequently",
            "logs",
        )
        wal_started = db.log_count(ctx, *CHECKPOINT_LINES)
        card.add(
            wal_started >= 3 and not warned,
            0.75,
            f"{wal_started} checkpoints started because WAL filled up (not by timeout)",
            "logs",
        )
        activity = db.activity(ctx)
        act_ref = activity.id if activity else None
        write_share = db.wait_share(activity.wait_events, db.WRITE_WAITS) if activity else 0.0
        card.add(
            write_share >= WRITE_SHARE,
            1.0,
            f"{write_share * 100:.0f}% of the database load waits on data-file and WAL writes",
            act_ref,
        )
        wal = ev.metric(queries.DB_TRANSACTION_LOG_GENERATION.name)
        card.add(
            db.rising(wal),
            1.0,
            _sentence(wal) if wal and wal.anomalous else "",
            f"metric:{queries.DB_TRANSACTION_LOG_GENERATION.name}",
        )
        io = db.rising_ones(
            ev.metric(queries.DB_WRITE_IOPS.name),
            ev.metric(queries.DB_WRITE_THROUGHPUT.name),
            ev.metric(queries.DB_DISK_QUEUE_DEPTH.name),
        )
        card.add(
            bool(io),
            0.5,
            "; ".join(_sentence(m) for m in io[:2]),
            io[0].id if io else None,
        )
        slow = db.rising_ones(
            ev.metric(queries.DB_COMMIT_LATENCY.name),
            ev.metric(queries.DB_WRITE_LATENCY.name),
        )
        card.add(bool(slow), 0.5, _sentence(slow[0]) if slow else "", slow[0].id if slow else None)
        wal_onset, cp_onset = db.onset(wal), db.onset(checkpoints)
        burst_first = bool(wal_onset and cp_onset and wal_onset <= cp_onset)
        card.add(
            burst_first and frequent,
            0.25,
            f"the WAL burst began at {db.clock(wal_onset)}, the checkpoints followed at "
            f"{db.clock(cp_onset)}",
        )
        # The read-heavy alternative.
        hot = db.hottest(activity)
        read_share = (
            db.wait_share(activity.wait_events, db.READ_WAITS + db.CPU_WAITS) if (activity) else 0.0
        )
        reads_dominate = (
            hot is not None
            and not db.is_write(hot.statement)
            and hot.share >= READ_SHARE
            and hot.write_share < 0.3
            and read_share >= 0.6
        )
        card.add(
            reads_dominate,
            -2.0,
            f"the load is one read statement on CPU/page reads (`{hot.label}`), not writes"
            if hot
            else "",
            act_ref,
        )
        card.add(
            not frequent and not warned and not wal_started,
            -2.5,
            "checkpoints are at their usual rate and PostgreSQL does not warn about them"
            if checkpoints is not None
            else "no checkpoint series and no checkpoint warnings in the logs",
        )
        name = db.instance_name(ctx, _METRICS)
        writer = _writer(ctx)
        by = f" (`{db.short(writer.statement, 60)}`)" if writer else ""
        burst = "a write burst" + by if db.rising(wal) or writer else "heavy writes"
        cause = (
            f"{burst} makes {name} checkpoint far more often than usual; flushing pages "
            "and WAL saturates its IO and slows commits"
        )
        return card, cause, [name]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        name = components[0]
        writer = _writer(ctx)
        who = f" (here `{db.short(writer.statement, 60)}`)" if writer else ""
        steps = [
            f"on {name}: SELECT checkpoints_timed, checkpoints_req, buffers_checkpoint, "
            "buffers_backend FROM pg_stat_bgwriter; (PostgreSQL 17: SELECT num_timed, "
            "num_requested FROM pg_stat_checkpointer;) many requested checkpoints mean "
            "max_wal_size fills before checkpoint_timeout",
            "SHOW max_wal_size; SHOW checkpoint_timeout; SHOW checkpoint_completion_target;",
            "find the bulk writer: SELECT pid, application_name, now() - xact_start AS age, "
            "left(query, 200) FROM pg_stat_activity WHERE state = 'active' AND query ~* "
            "'^\\s*(insert|update|delete|copy|create index)' ORDER BY xact_start;",
            "and the statements writing most WAL: SELECT queryid, calls, "
            "pg_size_pretty(wal_bytes), left(query, 120) FROM pg_stat_statements "
            "ORDER BY wal_bytes DESC LIMIT 10;",
            f"pause or throttle the bulk writer{who}: smaller batches, off-peak, or rate-limited",
            "then, in a planned change, raise max_wal_size (e.g. double it; check free "
            "storage first) and keep checkpoint_completion_target at 0.9: self-managed: ALTER "
            "SYSTEM SET max_wal_size = '<size>'; SELECT pg_reload_conf(); RDS: aws rds "
            "modify-db-parameter-group --db-parameter-group-name <group> --parameters "
            "'ParameterName=max_wal_size,ParameterValue=<MB>,ApplyMethod=immediate'",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="database", name=name, namespace=ctx.namespace),
                rationale="the writer belongs to someone, and checkpoint settings trade "
                "recovery time and disk for IO; both are a person's call",
                steps=steps,
            )
        ]


PATTERN = DbCheckpointStorm()
