"""The lab's faults: each injected for real into the running shop, with what an SRE would
expect firstline to make of it. The expectation is written from the fault (what was broken
and how a person would fix it), never from firstline's output: the lab's test compares the
two.

A fault's `heal` is what a person would do by hand. `firstline lab run` calls it after a
fault firstline escalated (the upstream outage is not firstline's to fix) and before it
ends, so the next fault starts on a healthy shop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from firstline.errors import InvalidValue
from firstline.lab.handle import LabHandle

Outcome = Literal["fixed", "escalated"]


@dataclass(frozen=True)
class Expectation:
    alertname: str
    labels: dict[str, str]  # the alert's labels that say which incident is the fault's
    pattern: str
    outcome: Outcome
    action: str | None  # the action type that fixes it, when firstline should fix it
    approval: bool  # whether the lab's policy asks a person first
    default_decision: str = "escalate"
    """What the default policy decides in auto mode, without the lab's runbooks (a captured
    bundle does not carry them), from the policy's rules: the pattern's own fix decides."""
    names: str | None = None  # what the escalation must name (the failing dependency)


@dataclass(frozen=True)
class Fault:
    id: str
    title: str
    service: str
    expect: Expectation
    inject: Callable[[LabHandle], None]
    heal: Callable[[LabHandle], None]


def _switch(service: str, name: str, on: bool, **params: object) -> Callable[[LabHandle], None]:
    def flip(lab: LabHandle) -> None:
        lab.fault_switch(service, name, on=on, **params)

    return flip


FAULTS: tuple[Fault, ...] = (
    Fault(
        id="connection-leak",
        title="orders leaks PostgreSQL sessions idle in transaction",
        service="orders",
        expect=Expectation(
            alertname="PostgresqlTooManyIdleInTransactionConnections",
            labels={"service": "postgres"},
            pattern="connection_pool_exhaustion",
            outcome="fixed",
            action="terminate_db_connections",
            approval=True,
            default_decision="request_approval",
        ),
        inject=_switch("orders", "connection-leak", True, sessions=5),
        heal=lambda lab: lab.terminate_idle_sessions(),
    ),
    Fault(
        id="cache-runaway",
        title="a runaway warm-up fills Redis to maxmemory",
        service="storefront",
        expect=Expectation(
            alertname="RedisOutOfConfiguredMaxmemory",
            labels={"service": "redis"},
            pattern="cache_memory_full",
            outcome="fixed",
            action="clear_cache",
            approval=True,
        ),
        inject=_switch("storefront", "cache-runaway", True),
        heal=lambda lab: lab.purge_cache(),
    ),
    Fault(
        id="certificate-expiring",
        title="the storefront's TLS certificate expires in 2 days",
        service="storefront",
        expect=Expectation(
            alertname="BlackboxSslCertificateWillExpireSoon",
            labels={"service": "storefront"},
            pattern="certificate_expiry",
            outcome="fixed",
            action="custom_script",
            approval=True,
            default_decision="request_approval",
        ),
        inject=lambda lab: lab.install_certificate(days=2),
        heal=lambda lab: lab.install_certificate(days=90),
    ),
    Fault(
        id="disk-filling",
        title="export files fill the lab volume",
        service="orders",
        expect=Expectation(
            alertname="HostOutOfDiskSpace",
            labels={},
            pattern="disk_pressure",
            outcome="fixed",
            action="custom_script",
            approval=False,
        ),
        inject=lambda lab: lab.fill_volume(percent=95),
        heal=lambda lab: lab.empty_volume(),
    ),
    Fault(
        id="upstream-refusing",
        title="the payments gateway refuses connections",
        service="checkout",
        expect=Expectation(
            alertname="HighErrorRate",
            labels={"service": "checkout"},
            pattern="upstream_dependency_failure",
            outcome="escalated",
            action=None,
            approval=False,
            names="payments",
        ),
        inject=_switch("payments", "refuse", True),
        heal=_switch("payments", "refuse", False),
    ),
    Fault(
        id="bad-release",
        title="catalog 1.5.0 fails 40% of product requests",
        service="catalog",
        expect=Expectation(
            alertname="HighErrorRate",
            labels={"service": "catalog"},
            pattern="deploy_regression",
            outcome="fixed",
            action="rollback",
            approval=True,
            default_decision="request_approval",
        ),
        inject=lambda lab: lab.set_image("catalog", "1.5.0", cause="release 1.5.0"),
        heal=lambda lab: lab.set_image("catalog", "1.4.2", cause="revert to 1.4.2"),
    ),
    Fault(
        id="crash-loop-config",
        title="order-events rolled out with an invalid batch size",
        service="order-events",
        expect=Expectation(
            alertname="KubePodCrashLooping",
            labels={"container": "order-events"},
            pattern="crash_loop_bad_config",
            outcome="fixed",
            action="rollback",
            approval=True,
            default_decision="request_approval",
        ),
        inject=lambda lab: lab.set_env(
            "order-events", "ORDER_EVENTS_BATCH_SIZE", "0", cause="tune batch size"
        ),
        heal=lambda lab: lab.set_env(
            "order-events", "ORDER_EVENTS_BATCH_SIZE", "50", cause="restore batch size"
        ),
    ),
    Fault(
        id="oom-loop",
        title="report-worker picks up a report larger than its memory limit, again and again",
        service="report-worker",
        expect=Expectation(
            alertname="KubernetesContainerOomKiller",
            labels={"container": "report-worker"},
            pattern="oom_kill_loop",
            outcome="fixed",
            action="raise_resource_limit",
            approval=True,
            default_decision="auto_remediate",
        ),
        inject=lambda lab: lab.enqueue_report(megabytes=160),
        heal=lambda lab: lab.drop_reports(),
    ),
)

BY_ID = {fault.id: fault for fault in FAULTS}


def select(names: list[str]) -> list[Fault]:
    """`all`, or fault ids; an unknown id is a one-line error naming the known ones."""
    if not names or names == ["all"]:
        return list(FAULTS)
    unknown = [n for n in names if n not in BY_ID]
    if unknown:
        raise InvalidValue(f"unknown fault {unknown[0]!r}; known: {', '.join(BY_ID)}")
    return [BY_ID[n] for n in names]
