"""Runaway query: one statement (or a few) eats the database's CPU, so everything else on
it slows down.

Typical alerts: AwsRdsHighCpuUtilization, PostgresqlHighCPU, DBLoadHigh, SlowQueries,
PostgresqlLongRunningQueries, and the HighLatency of the services using the database. The
key signal is the database's load (average active sessions, from Performance Insights or
pg_stat_activity sampling) dominated by one statement: at least half of it, mostly on `CPU`
(or reading data pages, `IO:DataFileRead`, for a scan-heavy one). Database CPU at 85%+ and
slow-statement log lines ("duration: ... ms statement:", "canceling statement due to
statement timeout") corroborate; connections are not exhausted (that is
connection_pool_exhaustion).

What is ruled out:
- general traffic growth: many statements rising together (no statement above ~35% of the
  load) while the request rate grew: more capacity or less traffic, not one query;
- a checkpoint or IO storm: load dominated by write and WAL waits (`IO:DataFileWrite`,
  `IO:WALWrite`, `LWLock:WALWrite`) with checkpoints rising: db_checkpoint_storm.

Remediation is `manual_only`: find the backend in pg_stat_activity, `pg_cancel_backend`,
then `pg_terminate_backend` if it does not stop, EXPLAIN the statement and add the missing
index or fix the caller. The PostgreSQL executor (`actions/postgres_sessions.py`) only ends
idle-in-transaction sessions or an application's oldest sessions beyond a cap; it cannot
cancel one specific statement, so no automated action is proposed.
"""

from __future__ import annotations

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard
from firstline.patterns.library import db_common as db

DOMINANT_SHARE = 0.5
FEW_SHARE = 0.7
SPREAD_SHARE = 0.35
CPU_HIGH = 0.85

SLOW_LINES = ("duration:", "statement timeout", "canceling statement due to user request")
_METRICS = (queries.DB_CPU_UTILISATION.name, queries.DB_CONNECTIONS.name)


def _few_share(ctx: PatternContext) -> float:
    activity = db.activity(ctx)
    if activity is None:
        return 0.0
    total = db.total_load(activity)
    top = db.top_statements(activity)[:3]
    return sum(s.load for s in top) / total if total else 0.0


class DbRunawayQuery(Pattern):
    id = "db_runaway_query"
    title = "Runaway query saturating the database"
    default_severity = Severity.HIGH
    alert_names = (
        r"AwsRds.*Cpu.*",
        r".*(RDS|Aurora|Postgres|PostgreSQL|Database|DB).*(CPU|Load|Slow|Quer|Statement).*",
        r".*Slow.?Quer.*",
        r".*Long.?Running.*",
        r"Postgres(ql)?TooManyLocks.*",
        r".*Latency.*",
    )
    reads = ("databases", "logs")
    confirm_with = (
        "top statements by load in Performance Insights / pg_stat_statements",
        "whether many statements rose together with the request rate",
    )
    metrics = (
        queries.DB_CPU_UTILISATION,
        queries.DB_CONNECTIONS,
        queries.DB_MAX_CONNECTIONS,
        queries.DB_CHECKPOINTS,
        queries.DB_READ_IOPS,
        queries.REQUEST_RATE,
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        activity = db.activity(ctx)
        hot = db.hottest(activity)
        act_ref = activity.id if activity else None
        work = (hot.cpu_share + hot.read_share) if hot else 0.0
        dominant = hot is not None and hot.share >= DOMINANT_SHARE and work >= 0.5
        few = _few_share(ctx)
        card.add(
            dominant,
            3.0,
            f"one statement carries {hot.share * 100:.0f}% of the database load "
            f"({hot.statement.load:.1f} active sessions, {work * 100:.0f}% of it on CPU or "
            f"reading pages): `{hot.label}`"
            if hot
            else "",
            act_ref,
        )
        card.add(
            not dominant and hot is not None and few >= FEW_SHARE and work >= 0.5,
            1.5,
            f"the top 3 statements carry {few * 100:.0f}% of the load",
            act_ref,
        )
        cpu = ev.metric(queries.DB_CPU_UTILISATION.name)
        cpu_level = db.recent(cpu)
        cpu_high = cpu_level is not None and cpu_level >= CPU_HIGH
        cpu_ref = f"metric:{queries.DB_CPU_UTILISATION.name}"
        card.add(cpu_high, 1.0, f"database CPU at {(cpu_level or 0) * 100:.0f}%", cpu_ref)
        card.add(
            db.rising(cpu) and not cpu_high,
            0.5,
            f"database CPU {cpu.findings[0].sentence}" if cpu and cpu.anomalous else "",
            cpu_ref,
        )
        onsets = (db.onset(cpu), db.onset(ev.metric(queries.REQUEST_RATE.name)))
        slow = db.log_count(ctx, *SLOW_LINES)
        card.add(slow > 0, 0.5, f"{slow} slow or cancelled statement log line(s)", "logs")
        # Alternatives.
        spread = hot is not None and hot.share < SPREAD_SHARE and few < FEW_SHARE
        card.add(
            spread,
            -2.0,
            f"the load is spread over many statements (the top one is only {hot.share * 100:.0f}%)"
            if hot
            else "",
            act_ref,
        )
        rate = ev.metric(queries.REQUEST_RATE.name)
        grew = db.ratio(rate)
        traffic = db.rising(rate) and grew is not None and grew >= 1.5
        card.add(
            traffic and not dominant,
            -1.0,
            f"request rate grew {grew or 0:.1f}x"
            + (
                f", starting at {db.clock(onsets[1])} with CPU following at {db.clock(onsets[0])}"
                if onsets[0] and onsets[1] and onsets[1] <= onsets[0]
                else ""
            )
            + ": more traffic rather than one query",
            f"metric:{queries.REQUEST_RATE.name}",
        )
        io_share = db.wait_share(activity.wait_events, db.WRITE_WAITS) if activity else 0.0
        checkpoints = ev.metric(queries.DB_CHECKPOINTS.name)
        card.add(
            io_share >= 0.4 or (hot is not None and hot.write_share >= 0.5),
            -1.5,
            f"write/WAL waits are {io_share * 100:.0f}% of the load: an IO or checkpoint storm",
            act_ref,
        )
        card.add(
            db.rising(checkpoints),
            -0.5,
            "checkpoints became more frequent",
            f"metric:{queries.DB_CHECKPOINTS.name}",
        )
        conns = ev.metric(queries.DB_CONNECTIONS.name)
        limit = ev.metric(queries.DB_MAX_CONNECTIONS.name)
        max_conn = (limit.last if limit else None) or (
            activity.max_connections if activity else None
        )
        used = db.recent(conns, 3)
        exhausted = bool(max_conn and used is not None and used >= 0.9 * max_conn)
        card.add(
            exhausted,
            -1.0,
            f"connections at {used or 0:.0f}/{max_conn or 0:.0f}: connection exhaustion",
            f"metric:{queries.DB_CONNECTIONS.name}",
        )
        card.add(
            hot is None and not cpu_high and not db.rising(cpu),
            -2.5,
            "no statement-level load and the database CPU is not high",
        )
        card.add(
            hot is None and (cpu_high or db.rising(cpu)),
            -1.0,
            "no per-statement load to tell one query from more traffic",
        )
        name = db.instance_name(ctx, _METRICS)
        if dominant and hot is not None:
            kind = "CPU" if hot.cpu_share >= hot.read_share else "page reads"
            cause = (
                f"one statement saturates {name} ({hot.share * 100:.0f}% of its load, mostly "
                f"{kind}): `{hot.label}`"
            )
        elif hot is not None and few >= FEW_SHARE:
            cause = f"a few statements saturate {name}; the heaviest is `{hot.label}`"
        else:
            cause = f"{name} is saturated by its queries"
        return card, cause, [name]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        name = components[0]
        hot = db.hottest(db.activity(ctx))
        fragment = (
            hot.statement.statement.split()[0:6] if hot is not None else ["<statement", "text>"]
        )
        like = " ".join(fragment).replace("'", "''")[:60]
        steps = [
            f"on {name}: SELECT pid, usename, application_name, client_addr, "
            "now() - query_start AS running_for, wait_event_type, wait_event, left(query, 200) "
            f"FROM pg_stat_activity WHERE state = 'active' AND query ILIKE '%{like}%' "
            "ORDER BY query_start;",
            "cancel the longest-running one first: SELECT pg_cancel_backend(<pid>); only if it "
            "is still running after ~30s: SELECT pg_terminate_backend(<pid>); (ends its "
            "session and rolls back its transaction)",
            "see which statements cost most (pg_stat_statements): SELECT queryid, calls, "
            "round(total_exec_time) AS total_ms, round(mean_exec_time) AS mean_ms, rows, "
            "left(query, 200) FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10;",
            "EXPLAIN the statement with representative parameters (plain EXPLAIN: "
            "EXPLAIN ANALYZE runs it again) and look for sequential scans on large tables",
            "if an index is missing: CREATE INDEX CONCURRENTLY ... (does not block writes); "
            "if the plan changed after ANALYZE or a deploy, find the caller "
            "(application_name/client_addr) and its recent change",
            "to stop a repeat while it is fixed: ALTER ROLE <app_role> SET statement_timeout "
            "= '30s'; (new sessions only)",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="database", name=name, namespace=ctx.namespace),
                rationale="cancelling a specific statement is not something the PostgreSQL "
                "executor can do safely (it only ends idle-in-transaction sessions); which "
                "backend to cancel and how to fix the plan is a person's call",
                steps=steps,
            )
        ]


PATTERN = DbRunawayQuery()
