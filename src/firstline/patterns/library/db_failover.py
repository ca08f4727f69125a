"""Database failover: the primary went away and a standby was promoted (RDS Multi-AZ,
Aurora, Patroni, a Kubernetes operator), or the instance restarted. Clients see their
connections reset and refused for a minute or two, then reconnect to the new primary.

Typical alerts: PostgresqlDown, PostgresqlRestarted, PatroniHasNoLeader, RDS event
subscriptions (failover, reboot), and the HighErrorRate of callers during the switch. The
key signals are events on the database (`dbinstance/<id>`, `dbcluster/<id>`): "Multi-AZ
instance failover started/completed", "Completed failover to DB instance", "Started
failover of DB cluster", "promoted", "A new primary was elected"; or the server's and
Patroni's log lines ("received promote request", "selected new timeline ID", "promoted self
to leader", "database system is ready to accept connections"). Connections dropping to
about zero briefly and clients logging connection resets/refusals corroborate.

Completed or in progress:
- completed: a "completed" event (or connections back near their usual level and client
  errors stopped): say so, nothing to do but check that clients reconnected. Clients that
  keep failing, or get "read-only transaction" errors, cache the old primary's IP (JVM DNS
  cache, a pooler that resolved the endpoint once);
- in progress: started but not completed, connections still near zero, errors ongoing:
  wait, do not trigger another failover or reboot.

What is ruled out: connection errors with no failover, restart or promotion evidence (an
application or network problem), and a healthy database.

Remediation is always `manual_only`. This pattern never proposes `failover_database`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import KubeEvent
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard
from firstline.patterns.library import db_common as db

FAILOVER_EVENTS = (
    "failover",
    "promoted",
    "promotion",
    "new primary",
    "new writer",
    "new leader",
    "elected",
    "switchover",
)
COMPLETED_EVENTS = ("completed", "complete", "finished", "now available", "promoted")
RESTART_EVENTS = ("restarted", "rebooted", "reboot", "shutdown", "recovery", "restarting")
PROMOTION_LINES = (
    "received promote request",
    "selected new timeline id",
    "promoted self to leader",
    "promoting standby",
    "a new primary was elected",
    "archive recovery complete",
    "became the leader",
    "promote failed",
)
RESTART_LINES = (
    "database system is ready to accept connections",
    "database system was interrupted",
    "database system was not properly shut down",
    "database system is shut down",
    "redo done at",
)
CLIENT_LINES = (
    "connection refused",
    "postmaster is accepting tcp/ip connections",
    "connection attempt failed",
    "connection reset",
    "server closed the connection unexpectedly",
    "terminating connection due to administrator command",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "could not connect to server",
    "connection to server at",
    "broken pipe",
    "an i/o error occurred while sending to the backend",
    "this connection has been closed",
)
READ_ONLY_LINES = (
    "cannot execute insert in a read-only transaction",
    "cannot execute update in a read-only transaction",
    "cannot execute delete in a read-only transaction",
    "read-only transaction",
)
QUIET_AFTER = timedelta(minutes=3)
_METRICS = (queries.DB_CONNECTIONS.name,)


@dataclass(frozen=True)
class _Switch:
    failover: list[KubeEvent]
    completed: list[KubeEvent]
    restarts: list[KubeEvent]
    promotion_logs: int
    restart_logs: int
    client_errors: int
    read_only: int
    last_client_error: datetime | None
    dipped: bool
    recovered: bool
    now: datetime

    @property
    def happened(self) -> bool:
        return bool(self.failover or self.promotion_logs)

    @property
    def errors_stopped(self) -> bool:
        last = self.last_client_error
        return last is None or self.now - last >= QUIET_AFTER

    @property
    def done(self) -> bool:
        if self.completed:
            return True
        return self.recovered and self.errors_stopped

    @property
    def when(self) -> datetime | None:
        times = [e.last_seen for e in self.completed or self.failover or self.restarts]
        return max(times) if times else None


def _switch(ctx: PatternContext) -> _Switch:
    events = db.db_events(ctx)
    failover = db.events_matching(events, *FAILOVER_EVENTS)
    completed = [
        e
        for e in failover
        if any(w in f"{e.reason} {e.message}".lower() for w in COMPLETED_EVENTS)
        and "started" not in f"{e.reason} {e.message}".lower()
    ]
    restarts = [e for e in db.events_matching(events, *RESTART_EVENTS) if e not in failover]
    conns = ctx.evidence.metric(queries.DB_CONNECTIONS.name)
    dipped = recovered = False
    if conns is not None and len(conns.points) >= 10:
        values = [p.value for p in conns.points]
        usual = sorted(values)[len(values) // 2]
        low = min(values[-30:])
        dipped = usual > 0 and low <= 0.1 * usual
        recovered = dipped and (db.recent(conns, 3) or 0.0) >= 0.5 * usual
    return _Switch(
        failover=failover,
        completed=completed,
        restarts=restarts,
        promotion_logs=db.log_count(ctx, *PROMOTION_LINES),
        restart_logs=db.log_count(ctx, *RESTART_LINES),
        client_errors=db.log_count(ctx, *CLIENT_LINES),
        read_only=db.log_count(ctx, *READ_ONLY_LINES),
        last_client_error=db.last_log(ctx, *CLIENT_LINES, *READ_ONLY_LINES),
        dipped=dipped,
        recovered=recovered,
        now=db.now(ctx),
    )


class DbFailover(Pattern):
    id = "db_failover"
    title = "Database failover or restart"
    default_severity = Severity.HIGH
    alert_names = (
        r".*Fail.?over.*",
        r"Patroni.*",
        r"Postgres(ql)?(Down|Restarted|NotUp)",
        r"PostgreSQLDown",
        r".*(RDS|Aurora|Postgres|PostgreSQL|Database|DB).*"
        r"(Down|Restart|Reboot|Unavailable|Unreachable|Role|Promot|Leader|Primary|Writer).*",
        r".*(NoLeader|LeaderChange|Promoted).*",
    )
    reads = ("events", "logs")
    confirm_with = (
        "the database's events (aws rds describe-events, patronictl list)",
        "whether clients reconnected to the new primary",
    )
    metrics = (queries.DB_CONNECTIONS, queries.ERROR_RATE)

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        s = _switch(ctx)
        found = s.completed or s.failover
        first = found[0] if found else None
        card.add(
            bool(s.failover),
            3.0,
            f"the database reports a failover: {first.message or first.reason}" if first else "",
            "events",
        )
        card.add(
            s.promotion_logs > 0,
            2.0 if not s.failover else 0.5,
            f"{s.promotion_logs} log line(s) of a standby being promoted",
            "logs",
        )
        card.add(
            bool(s.restarts) and not s.happened,
            1.5,
            f"the instance restarted: {s.restarts[0].message or s.restarts[0].reason}"
            if s.restarts
            else "",
            "events",
        )
        card.add(
            s.restart_logs > 0 and not s.happened and not s.restarts,
            1.0,
            f"{s.restart_logs} log line(s) of the server restarting or recovering",
            "logs",
        )
        conn_ref = f"metric:{queries.DB_CONNECTIONS.name}"
        card.add(
            s.dipped,
            1.0,
            "connections dropped to about zero"
            + (" and came back" if s.recovered else " and are still down"),
            conn_ref,
        )
        card.add(
            s.client_errors >= 3,
            0.75,
            f"{s.client_errors} client log lines of connections reset or refused",
            "logs",
        )
        card.add(
            s.read_only > 0,
            0.5,
            f"{s.read_only} write(s) refused as read-only: a client still talks to the old primary",
            "logs",
        )
        card.add(
            not s.happened and not s.restarts and not s.restart_logs,
            -2.5,
            "no failover, promotion or restart reported for the database",
        )
        name = db.instance_name(ctx, _METRICS)
        return card, self._cause(name, s), [name]

    @staticmethod
    def _cause(name: str, s: _Switch) -> str:
        what = "failed over to a standby" if s.happened else "restarted"
        if s.done:
            at = f" at {db.clock(s.when)}" if s.when else ""
            tail = (
                "; some clients still fail and may cache the old primary's address"
                if not s.errors_stopped or s.read_only
                else "; clients have reconnected"
            )
            return f"{name} {what} and the switch completed{at}{tail}"
        return f"{name} {what}: the switch is still in progress and clients cannot connect yet"

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        name = components[0]
        s = _switch(ctx)
        steps = (
            [
                "the failover has completed: no database action is needed; confirm it and "
                "check the clients"
            ]
            if s.done
            else []
        )
        steps += [
            f"aws rds describe-events --source-type db-instance --source-identifier {name} "
            "--duration 120 (Aurora: --source-type db-cluster --source-identifier <cluster>); "
            "Patroni: patronictl -c /etc/patroni/patroni.yml list",
            f"aws rds describe-db-instances --db-instance-identifier {name} --query "
            "'DBInstances[0].[DBInstanceStatus,AvailabilityZone,SecondaryAvailabilityZone]'",
            "on the writer endpoint: SELECT pg_is_in_recovery(), "
            "pg_postmaster_start_time(); (false = primary)",
        ]
        if s.done:
            steps += [
                "find callers still failing; they may cache the old primary's IP (JVM "
                "networkaddress.cache.ttl, a pooler that resolved the endpoint once, hard-coded "
                "IPs): restart or reconnect only those after confirming",
                "look for writes lost or retried during the switch in the callers' logs",
            ]
        else:
            steps += [
                "the switch is in progress: wait for it to complete (RDS Multi-AZ usually takes "
                "1-2 minutes); do not reboot or trigger another failover meanwhile",
                "if it does not complete within ~10 minutes, open a case with the provider or "
                "check the cluster manager (Patroni/operator) logs for why no leader is elected",
            ]
        steps.append("find out why the primary failed (host, storage, OOM, maintenance event)")
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="database", name=name, namespace=ctx.namespace),
                rationale="a failover is handled by the database platform; firstline never "
                "fails over or restarts a database, a person checks the outcome",
                steps=steps,
            )
        ]


PATTERN = DbFailover()
