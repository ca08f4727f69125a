"""Database storage filling up: a PostgreSQL server (RDS, Aurora's local storage, a volume
in Kubernetes) is running out of disk; when it is full, writes fail and the server may stop.

Typical alerts: AwsRdsLowFreeStorageSpace, RDSFreeStorageSpaceLow, PostgresqlDiskFull,
PostgresqlUnusedReplicationSlot, WAL-size alerts. The key signals are free storage
(`db_free_storage`) low (under 2 GiB, or under 5% of where it was an hour ago) or falling
fast enough to be full within hours, with the time to full estimated from the slope of the
last 30 minutes; and the server's own errors ("No space left on device", "could not extend
file", "could not write to file"). RDS events ("low storage", "storage-full") corroborate.

What fills it decides the fix:
- WAL kept for a replication slot nobody consumes (an inactive slot, a dead CDC connector,
  a replica that went away) or an archive_command that keeps failing: WAL piles up while
  the data stays the same size;
- temporary files of a bad query (sorts/hashes spilling to disk, "temporary file: path");
- heavy writes (a bulk load) growing the data itself;
- server log files (log_statement = 'all', DEBUG logging).

What is ruled out: storage with plenty of room that is not falling (or falling so slowly
it would take days), and a generic node/PV disk alert (disk_pressure) with no database
storage series.

Remediation is `manual_only`: find the largest relations, WAL and slots, grow the allocated
storage, and only with the consumer's owner drop a stale replication slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import MetricEvidence
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard
from firstline.patterns.library import db_common as db

LOW_FREE_BYTES = 2 * db.GIB
PLENTY_FREE_BYTES = 20 * db.GIB
FULL_SOON_SECONDS = 6 * 3600
FULL_TODAY_SECONDS = 24 * 3600

FULL_LINES = (
    "no space left on device",
    "could not extend file",
    "could not write to file",
    "could not write block",
    "disk full",
    "storage full",
)
SLOT_LINES = (
    "replication slot",
    "max_slot_wal_keep_size",
    "wal_status",
)
ARCHIVE_LINES = (
    "archive command failed",
    "archiving write-ahead log file",
    "archive_command",
)
TEMP_LINES = ("temporary file: path", "pgsql_tmp", "temp_file_limit")
LOG_LINES = ("log file", "rdsadmin log", "log_statement")
RDS_EVENTS = (
    "low storage",
    "storage has been exhausted",  # RDS: allocated storage exhausted
    "of its allocated storage",  # RDS: consumed more than 90% of its allocated storage
    "out of storage",
    "storage is critically low",
    "insufficient storage",
    "storage-full",
    "storage full",
    "free storage capacity",
    "reached storage full",
    "storage-optimization",
)
_METRICS = (queries.DB_FREE_STORAGE.name,)


@dataclass(frozen=True)
class _Storage:
    free: float | None
    start: float | None
    slope: float | None
    falling: bool

    @property
    def seconds_to_full(self) -> float | None:
        if self.free is None or self.slope is None or self.slope >= 0:
            return None
        return self.free / -self.slope

    @property
    def low(self) -> bool:
        if self.free is None:
            return False
        share_low = bool(self.start) and self.free <= 0.05 * (self.start or 0)
        return self.free < LOW_FREE_BYTES or share_low

    @property
    def full_soon(self) -> bool:
        ttf = self.seconds_to_full
        return ttf is not None and ttf <= FULL_SOON_SECONDS

    @property
    def full_today(self) -> bool:
        ttf = self.seconds_to_full
        return ttf is not None and FULL_SOON_SECONDS < ttf <= FULL_TODAY_SECONDS

    @property
    def plenty(self) -> bool:
        if self.free is None or self.low:
            return False
        ttf = self.seconds_to_full
        return (ttf is None or ttf > 2 * FULL_TODAY_SECONDS) and (
            not self.falling or self.free >= PLENTY_FREE_BYTES
        )


def _storage(metric: MetricEvidence | None) -> _Storage:
    if metric is None:
        return _Storage(free=None, start=None, slope=None, falling=False)
    return _Storage(
        free=db.recent(metric, 3),
        start=metric.points[0].value,
        slope=db.slope_per_second(metric, 30),
        falling=db.falling(metric),
    )


@dataclass(frozen=True)
class _Filler:
    kind: str
    why: str


def _filler(ctx: PatternContext) -> _Filler | None:
    """What is filling the disk, from logs, related alerts, activity and write metrics."""
    related = ctx.evidence.related()
    names = [a.name.lower() for a in related.alerts] if related else []
    slot_alert = any("replicationslot" in n or "slot" in n for n in names)
    if db.log_count(ctx, *SLOT_LINES) or slot_alert or "slot" in ctx.alert.name.lower():
        return _Filler("slot", "WAL retained for a replication slot that is not consumed")
    if db.log_count(ctx, *ARCHIVE_LINES):
        return _Filler("archive", "WAL kept because archiving (archive_command) keeps failing")
    activity = db.activity(ctx)
    temp_waits = (
        db.wait_share(activity.wait_events, ("io:buffilewrite", "io:buffileread"))
        if activity
        else 0.0
    )
    if db.log_count(ctx, *TEMP_LINES) or temp_waits >= 0.3:
        return _Filler("temp", "temporary files of a query spilling sorts or hashes to disk")
    wal = ctx.evidence.metric(queries.DB_TRANSACTION_LOG_GENERATION.name)
    writes = ctx.evidence.metric(queries.DB_WRITE_THROUGHPUT.name)
    if db.rising(wal) or db.rising(writes):
        return _Filler("writes", "a burst of writes (a bulk load or migration) growing the data")
    return None


class DbStorageFull(Pattern):
    id = "db_storage_full"
    title = "Database storage filling up"
    default_severity = Severity.HIGH
    alert_names = (
        r"AwsRds.*(Storage|Space).*",
        r".*(RDS|Aurora|Postgres|PostgreSQL|Database|DB).*(Storage|Space|Disk|Full).*",
        r".*FreeStorage.*",
        r".*StorageSpace.*",
        r".*ReplicationSlot.*",
        r".*(WAL|Wal|Xlog).*(Size|Disk|Full|Grow|Retain).*",
    )
    reads = ("databases", "events", "logs", "related_alerts")
    confirm_with = (
        "free storage and its slope (time to full)",
        "WAL retained by replication slots, archiver failures, temp files",
    )
    metrics = (
        queries.DB_FREE_STORAGE,
        queries.DB_TRANSACTION_LOG_GENERATION,
        queries.DB_WRITE_THROUGHPUT,
        queries.DB_REPLICA_LAG,
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        metric = ctx.evidence.metric(queries.DB_FREE_STORAGE.name)
        st = _storage(metric)
        ref = f"metric:{queries.DB_FREE_STORAGE.name}"
        ttf = st.seconds_to_full
        card.add(
            st.low,
            2.0,
            f"only {db.human_bytes(st.free or 0)} of storage left",
            ref,
        )
        card.add(
            st.full_soon,
            2.5 if not st.low else 1.0,
            f"at the last 30 minutes' rate it is full in ~{db.human_duration(ttf or 0)}",
            ref,
        )
        card.add(
            ttf is not None and ttf <= 3600,
            0.5,
            "that is within the hour",
            ref,
        )
        card.add(
            st.full_today,
            1.0,
            f"at the last 30 minutes' rate it is full in ~{db.human_duration(ttf or 0)}",
            ref,
        )
        card.add(
            st.falling and not st.plenty,
            0.5,
            f"free storage {metric.findings[0].sentence}" if metric and metric.anomalous else "",
            ref,
        )
        errors = db.log_count(ctx, *FULL_LINES)
        card.add(
            errors > 0,
            2.0 if st.free is None else 1.0,
            f"{errors} log line(s) of writes failing for lack of space",
            "logs",
        )
        events = db.events_matching(db.db_events(ctx), *RDS_EVENTS)
        card.add(
            bool(events),
            2.0 if st.free is None else 1.0,  # without the metric, the provider's word is it
            f"the provider reports it: {events[0].message or events[0].reason}" if events else "",
            "events",
        )
        filler = _filler(ctx)
        card.add(
            filler is not None and (st.low or st.full_soon or st.full_today or errors > 0),
            0.5,
            f"likely filler: {filler.why}" if filler else "",
        )
        card.add(
            st.plenty and not errors,
            -2.5,
            f"{db.human_bytes(st.free or 0)} free and not filling fast"
            + (f" (full in ~{db.human_duration(ttf)} at this rate)" if ttf else ""),
            ref,
        )
        card.add(
            metric is None and not errors and not events,
            -2.5,
            "no database storage series, no out-of-space errors and no storage events",
        )
        name = db.instance_name(ctx, _METRICS)
        if st.free is not None:
            when = f", full in ~{db.human_duration(ttf)}" if ttf else ""
            state = f"{db.human_bytes(st.free)} free{when}"
        else:
            state = "writes failing for lack of space"
        why = f": {filler.why}" if filler else ""
        return card, f"{name} is running out of storage ({state}){why}", [name]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        name = components[0]
        filler = _filler(ctx)
        steps = [
            f"on {name}: SELECT datname, pg_size_pretty(pg_database_size(datname)) FROM "
            "pg_database ORDER BY pg_database_size(datname) DESC;",
            "largest relations: SELECT n.nspname, c.relname, "
            "pg_size_pretty(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind IN ('r','m') "
            "ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 20;",
            "WAL on disk: SELECT count(*), pg_size_pretty(sum(size)) FROM pg_ls_waldir();",
            "WAL held by slots: SELECT slot_name, slot_type, active, wal_status, "
            "pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained "
            "FROM pg_replication_slots ORDER BY pg_wal_lsn_diff(pg_current_wal_lsn(), "
            "restart_lsn) DESC;",
            "archiving: SELECT archived_count, failed_count, last_failed_wal, last_failed_time "
            "FROM pg_stat_archiver;",
            "temporary files: SELECT datname, temp_files, pg_size_pretty(temp_bytes) FROM "
            "pg_stat_database ORDER BY temp_bytes DESC;",
        ]
        if filler and filler.kind == "slot":
            steps.append(
                "an inactive slot with a large `retained` keeps WAL forever. Find its consumer "
                "(a replica, Debezium/DMS, a logical subscriber) and confirm with its owner that "
                "it is gone for good before dropping it: SELECT pg_drop_replication_slot("
                "'<slot_name>'); the consumer must then be re-seeded. Never drop an active slot"
            )
        if filler and filler.kind == "archive":
            steps.append(
                "fix the archive destination/credentials so archive_command succeeds; WAL is "
                "released once archived (do not delete files in pg_wal by hand)"
            )
        if filler and filler.kind == "temp":
            steps.append(
                "find the query spilling to disk (SELECT pid, now() - query_start, "
                "left(query, 200) FROM pg_stat_activity WHERE state = 'active' ORDER BY 2 DESC) "
                "and cancel it with SELECT pg_cancel_backend(<pid>); cap it with temp_file_limit"
            )
        if filler and filler.kind == "writes":
            steps.append("pause or throttle the bulk writer until storage is added")
        steps += [
            f"grow the storage: aws rds modify-db-instance --db-instance-identifier {name} "
            "--allocated-storage <GiB> --apply-immediately (storage only grows, and the next "
            "change must wait ~6 hours), or enable storage autoscaling with "
            "--max-allocated-storage <GiB>; on Kubernetes, expand the PVC if its StorageClass "
            "allows volume expansion",
            "if the server is already full and stopped accepting writes, free space before "
            "anything else: do not delete files under the data directory or pg_wal by hand",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="database", name=name, namespace=ctx.namespace),
                rationale="freeing or adding database storage (dropping slots, growing the "
                "volume) is irreversible or costly; a person decides",
                steps=steps,
            )
        ]


PATTERN = DbStorageFull()
