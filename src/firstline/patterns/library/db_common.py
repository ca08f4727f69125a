"""Helpers shared by the database patterns (db_*). Not a pattern: it defines no PATTERN.

They answer the questions every database pattern asks: which instance is this about, what
is the database busy with (sessions, wait events, top statements), what did the cloud
provider or the cluster manager say happened to it (events on `dbinstance/<id>`), and when
did a metric start to move.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from firstline.domain.evidence import (
    DatabaseActivityEvidence,
    KubeEvent,
    MetricEvidence,
    StatementActivity,
)
from firstline.domain.text import substring_matcher
from firstline.patterns.base import PatternContext

GIB = 1024**3

_NAME_LABELS = (
    "dbinstance_identifier",
    "DBInstanceIdentifier",
    "dimension_DBInstanceIdentifier",
    "db_instance",
    "db_instance_identifier",
    "db_cluster",
    "dbcluster_identifier",
)
_FALLBACK_LABELS = ("server", "instance", "datname", "service")
_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_DB_OBJECT_KINDS = ("dbinstance/", "dbcluster/", "db-instance/", "db-cluster/", "rds/")

# Wait events (Performance Insights / pg_stat_activity "Type:Event" names).
CPU_WAITS = ("cpu",)
READ_WAITS = ("io:datafileread", "io:buffileread", "io:buffilewrite", "io:datafileprefetch")
WRITE_WAITS = (
    "io:datafilewrite",
    "io:datafilesync",
    "io:datafileflush",
    "io:datafileextend",
    "io:walwrite",
    "io:walsync",
    "io:walinitwrite",
    "io:walinitsync",
    "lwlock:walwrite",
    "lwlock:walwritelock",
    "lwlock:walinsert",
    "lwlock:wal_insert",
    "lwlock:bufferio",
    "lwlock:buffer_io",
    "ipc:checkpointstart",
    "ipc:checkpointdone",
)
_WRITE_VERBS = ("insert", "update", "delete", "copy", "merge", "create index", "alter table")


def _clean(value: str) -> str:
    host = value.split(":")[0] if not value.startswith("[") else value
    return host.split(".")[0] if not _IP.match(host) else host


def instance_name(ctx: PatternContext, metrics: Iterable[str] = ()) -> str:
    """The database instance the alert is about, from (in order) the alert's RDS/instance
    identifier labels, the database-activity evidence, the metrics' labels, and finally the
    alert's server/instance/datname/service labels (ports stripped; bare IPs skipped)."""
    labels = ctx.alert.labels
    for key in _NAME_LABELS:
        if value := labels.get(key):
            return value
    db = activity(ctx)
    if db is not None:
        return db.instance
    for name in metrics:
        metric = ctx.evidence.metric(name)
        for key in (*_NAME_LABELS, "server"):
            if metric is not None and (value := metric.labels.get(key)):
                return _clean(value)
    for key in _FALLBACK_LABELS:
        value = labels.get(key)
        if value and not _IP.match(value.split(":")[0]):
            return _clean(value) if key == "instance" else value
    return ctx.component or "the database"


def activity(ctx: PatternContext) -> DatabaseActivityEvidence | None:
    """The database-activity evidence of the alerted instance: the one whose name appears in
    the alert's labels, else the busiest one."""
    found = ctx.evidence.databases()
    if not found:
        return None
    values = {v.split(":")[0].lower() for v in ctx.alert.labels.values() if v}
    named = [d for d in found if d.instance.lower() in values]
    if named:
        return named[0]
    return max(found, key=lambda d: total_load(d))


def recent_load(db: DatabaseActivityEvidence, points: int = 5) -> float | None:
    if not db.load:
        return None
    return statistics.mean(p.value for p in db.load[-points:])


def total_load(db: DatabaseActivityEvidence) -> float:
    """Average active sessions: the recent load series, else the top statements' sum, else
    the wait events' sum."""
    statements = sum(s.load for s in db.statements)
    waits = sum(db.wait_events.values())
    return max(recent_load(db) or 0.0, statements, waits)


def wait_share(waits: dict[str, float], names: tuple[str, ...]) -> float:
    total = sum(waits.values())
    if total <= 0:
        return 0.0
    picked = sum(v for k, v in waits.items() if k.lower().replace(" ", "") in names)
    return picked / total


def top_statements(db: DatabaseActivityEvidence) -> list[StatementActivity]:
    return sorted(db.statements, key=lambda s: s.load, reverse=True)


def is_write(statement: StatementActivity) -> bool:
    text = statement.statement.lstrip("( \n").lower()
    if text.startswith("with"):
        return any(f" {verb} " in f" {text} " for verb in ("insert", "update", "delete"))
    return text.startswith(_WRITE_VERBS)


def short(statement: str, limit: int = 70) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def sessions(db: DatabaseActivityEvidence | None, *states: str) -> int:
    if db is None:
        return 0
    return sum(n for state, n in db.sessions.items() if state.lower().startswith(states))


def db_events(ctx: PatternContext) -> list[KubeEvent]:
    """Events about database instances or clusters (RDS events, Patroni, operators)."""
    found = ctx.evidence.events()
    if found is None:
        return []
    return [e for e in found.events if e.object.lower().startswith(_DB_OBJECT_KINDS)]


def events_matching(events: Iterable[KubeEvent], *needles: str) -> list[KubeEvent]:
    lowered = [n.lower() for n in needles]
    return [e for e in events if any(n in f"{e.reason} {e.message}".lower() for n in lowered)]


def rising(metric: MetricEvidence | None) -> bool:
    return bool(metric and metric.anomalous and metric.findings[0].direction == "up")


def rising_ones(*metrics: MetricEvidence | None) -> list[MetricEvidence]:
    """The given metrics that are anomalous upwards, in order."""
    return [m for m in metrics if m is not None and rising(m)]


def falling(metric: MetricEvidence | None) -> bool:
    return bool(metric and metric.anomalous and metric.findings[0].direction == "down")


def onset(metric: MetricEvidence | None) -> datetime | None:
    """When the metric's anomaly started, if the detector said."""
    if metric is None or not metric.anomalous:
        return None
    return metric.findings[0].started_at


def recent(metric: MetricEvidence | None, points: int = 5) -> float | None:
    if metric is None or not metric.points:
        return None
    return statistics.median(p.value for p in metric.points[-points:])


def peak(metric: MetricEvidence | None, minutes: float = 30) -> float | None:
    if metric is None or not metric.points:
        return None
    since = metric.points[-1].ts - timedelta(minutes=minutes)
    return max(p.value for p in metric.points if p.ts >= since)


def ratio(metric: MetricEvidence | None) -> float | None:
    """current / baseline of the metric's anomaly finding."""
    if metric is None or not metric.anomalous:
        return None
    f = metric.findings[0]
    if f.current is None or not f.baseline:
        return None
    return f.current / f.baseline


def slope_per_second(metric: MetricEvidence | None, minutes: float = 30) -> float | None:
    """Least-squares slope of the last `minutes` of the series, in units per second."""
    if metric is None or len(metric.points) < 3:
        return None
    since = metric.points[-1].ts - timedelta(minutes=minutes)
    pts = [p for p in metric.points if p.ts >= since]
    if len(pts) < 3:
        return None
    t0 = pts[0].ts
    xs = [(p.ts - t0).total_seconds() for p in pts]
    ys = [p.value for p in pts]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if den == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def clock(ts: datetime | None) -> str:
    return ts.strftime("%H:%M") if ts else "?"


def human_bytes(value: float) -> str:
    for unit, size in (("TiB", 1024**4), ("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(value) >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} B"


def human_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


_ALERT_TEXT = ("summary", "description", "message", "error")


def texts(ctx: PatternContext) -> list[tuple[datetime, str]]:
    """Every line of text the incident holds, lower-cased: log lines, and the words people
    read in the alert itself and in event messages (an RDS event quoting the clients' error).
    Computed once per incident; every database pattern searches it."""
    cached = ctx.memo.get("db_texts")
    if cached is None:
        cached = ctx.memo["db_texts"] = [(ts, line.lower()) for ts, line in _texts(ctx)]
    return cached  # type: ignore[return-value]


def _texts(ctx: PatternContext) -> list[tuple[datetime, str]]:
    logs = ctx.evidence.logs()
    found = [(e.ts, e.line) for e in (logs.entries if logs else [])]
    alert = ctx.alert
    found += [
        (alert.starts_at, alert.annotations[k]) for k in _ALERT_TEXT if k in alert.annotations
    ]
    events = ctx.evidence.events()
    found += [(e.last_seen, e.message) for e in (events.events if events else [])]
    return found


def _text_counts(ctx: PatternContext) -> dict[str, int]:
    cached = ctx.memo.get("db_text_counts")
    if cached is None:
        cached = ctx.memo["db_text_counts"] = dict(Counter(line for _, line in texts(ctx)))
    return cached  # type: ignore[return-value]


def log_count(ctx: PatternContext, *needles: str) -> int:
    found = substring_matcher(tuple(n.lower() for n in needles))
    return sum(n for line, n in _text_counts(ctx).items() if found(line))


def last_log(ctx: PatternContext, *needles: str) -> datetime | None:
    found = substring_matcher(tuple(n.lower() for n in needles))
    times = [ts for ts, line in texts(ctx) if found(line)]
    return max(times) if times else None


def now(ctx: PatternContext) -> datetime:
    """The end of the evidence window (the investigation's 'now')."""
    ends = [i.provenance.end for i in ctx.evidence.items if i.provenance.end is not None]
    return max(ends) if ends else ctx.alert.starts_at + timedelta(minutes=5)


@dataclass(frozen=True)
class Hot:
    """The statement dominating a database's load, if one does."""

    statement: StatementActivity
    share: float
    cpu_share: float
    read_share: float
    write_share: float

    @property
    def label(self) -> str:
        return short(self.statement.statement)


def hottest(db: DatabaseActivityEvidence | None) -> Hot | None:
    if db is None or not db.statements:
        return None
    top = top_statements(db)[0]
    total = total_load(db)
    if total <= 0:
        return None
    return Hot(
        statement=top,
        share=min(1.0, top.load / total),
        cpu_share=wait_share(top.wait_events, CPU_WAITS),
        read_share=wait_share(top.wait_events, READ_WAITS),
        write_share=wait_share(top.wait_events, WRITE_WAITS),
    )
