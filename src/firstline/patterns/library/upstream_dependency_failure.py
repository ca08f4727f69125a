"""Upstream dependency failure: this service fails because something it calls is failing.

Typical alerts: HighErrorRate, HighLatency, SLO burn-rate alerts on the calling service. The
key signal is the caller's own logs: refused connections, resets, 502/503/504 answers and
timeouts on calls to one named dependency. Alerts firing on that dependency, and the caller's
own pods being healthy, corroborate. Nothing on the caller fixes it, so the root cause is the
dependency and the incident goes to its owner.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Alert, AlertStatus, Severity
from firstline.domain.evidence import LogEntry, PodState
from firstline.domain.hypothesis import ServiceRanking
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard

FAILURE_WORDS = (
    "connection refused",
    "econnrefused",
    "connection reset",
    "econnreset",
    "upstream connect error",
    "upstream_reset",
    "connection failure",
    "no healthy upstream",
    "upstream request timeout",
    "upstream request failed",
    "timeout after",
    "503 service unavailable",
    "502 bad gateway",
    "504 gateway timeout",
    "status=503",
    "status=502",
    "status=504",
    "status 503",
    " 503 from ",
    "returned 503",
    "code = unavailable",
    "deadline exceeded",
    "timed out",
    "timeout calling",
    "circuit breaker open",
    "broken pipe",
)
# Failures that other patterns explain better: DNS, connection pools, TLS, local resources.
EXCLUDED_WORDS = (
    ":53:",
    "no such host",
    "server misbehaving",
    "pool",
    "too many connections",
    "remaining connection slots",
    "x509",
    "certificate",
    "tls handshake",
    "no space left",
    "outofmemory",
)
# A peer's server error as its caller words it ("upstream catalog answered 500", "payments
# returned HTTP 502"): a dependency failing with a 500 of its own (a bad release of the
# dependency) is as much a failing call as a refused connection. Only the wording of an
# answer received counts: a service's own access log ("status=500") says nothing of its
# dependencies.
_SERVER_ERROR = re.compile(
    r"\b(?:answered|returned|responded with|replied with|failed with)\s+(?:an?\s+)?"
    r"(?:http\s+|status\s+(?:code\s+)?)?5\d\d\b|\b5\d\d\s+from\s+"
)
_NAME = r"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)"
_SVC_DNS = re.compile(_NAME + r"\.([a-z][a-z0-9-]*)\.svc\b")
_EXTRACTORS = (
    re.compile(r"https?://" + _NAME + r"(?=[:/.\"'\s]|$)"),
    re.compile(r"dial tcp " + _NAME + r"(?=[:.])"),
    # logfmt and JSON fields naming the dependency: upstream=x, "dependency": "x"
    re.compile(
        r"\b(?:upstream(?:_cluster|_host|_service)?|dependency|peer[._]service|target[._]service)"
        r"\"?\s*[=:]\s*\"?" + _NAME
    ),
    re.compile(r"(?:calling|call to|request to|connect to|connection to|from)\s+\"?" + _NAME),
    # "upstream catalog answered 500", "dependency payments-gateway connect failed"
    re.compile(
        r"\b(?:upstream|dependency)\s+\"?" + _NAME + r"\"?\s+(?:answered|returned|responded"
        r"|replied|failed|timed|refused|connect|unavailable)"
    ),
    re.compile(r"\b" + _NAME + r":\d{2,5}\b"),
)
_STOP = frozenset(
    {
        "localhost",
        "upstream",
        "server",
        "client",
        "host",
        "remote",
        "http",
        "https",
        "the",
        "tcp",
        "request",
        "requests",
        "call",
        "calls",
        "connection",
        "connections",
        "response",
    }
)
RECENT_ROLLOUT = timedelta(hours=2)
LOCALIZED = 4.0
"""Robust spreads a service's own metric must have moved for the ranking to name it."""


@dataclass(frozen=True)
class _Findings:
    failures: list[LogEntry]
    upstream: str | None
    upstream_namespace: str | None
    naming: int
    upstream_alerts: list[Alert]
    own_pods: list[PodState]
    unhealthy: list[PodState]
    rollout_before: datetime | None
    rollout_after: datetime | None
    localized: ServiceRanking | None = None


def _names(line: str) -> list[tuple[str, str | None]]:
    lowered = line.lower()
    found: list[tuple[str, str | None]] = [
        (m.group(1), m.group(2)) for m in _SVC_DNS.finditer(lowered)
    ]
    if not found:
        for pattern in _EXTRACTORS:
            found.extend((m.group(1), None) for m in pattern.finditer(lowered))
    return found


def _is_failure(line: str) -> bool:
    lowered = line.lower()
    failed = any(w in lowered for w in FAILURE_WORDS) or _SERVER_ERROR.search(lowered)
    return bool(failed) and not any(w in lowered for w in EXCLUDED_WORDS)


def _mine(entry: LogEntry, component: str | None) -> bool:
    """Log lines of the alerted service (lines without workload labels are kept)."""
    values = [entry.labels[k] for k in ("app", "service", "container", "pod") if k in entry.labels]
    if component is None or not values:
        return True
    return any(v == component or v.startswith(f"{component}-") for v in values)


def _alert_target(alert: Alert) -> str | None:
    return alert.service or alert.labels.get("deployment")


def _pick_upstream(
    failures: list[LogEntry], component: str | None, related: list[Alert]
) -> tuple[str | None, str | None, int]:
    counts: Counter[str] = Counter()
    namespaces: dict[str, str] = {}
    for entry in failures:
        seen: set[str] = set()
        for name, ns in _names(entry.line):
            if name == component or name in _STOP or name in seen:
                continue
            seen.add(name)
            counts[name] += 1
            if ns:
                namespaces.setdefault(name, ns)
    if counts:
        name, n = counts.most_common(1)[0]
        return name, namespaces.get(name), n
    others = [a for a in related if _alert_target(a) not in (None, component)]
    if others:
        return _alert_target(others[0]), others[0].namespace, 0
    return None, None, 0


def _unhealthy(pod: PodState) -> bool:
    return (
        not pod.ready
        or pod.phase not in ("Running", "Succeeded")
        or pod.waiting_reason is not None
        or pod.restart_count >= 3
    )


def _findings(ctx: PatternContext) -> _Findings:
    ev, component = ctx.evidence, ctx.component
    logs = ev.logs()
    failures = [
        e for e in (logs.entries if logs else []) if _mine(e, component) and _is_failure(e.line)
    ]
    related_ev = ev.related()
    related = [
        a for a in (related_ev.alerts if related_ev else []) if a.status is AlertStatus.FIRING
    ]
    upstream, upstream_ns, naming = _pick_upstream(failures, component, related)
    # the localization ranking names the service that moved first and most; the logs'
    # own words win when they name a dependency, the ranking fills in when they do not
    localized = next(
        (r for r in ctx.localization if r.service != component and r.score >= LOCALIZED), None
    )
    if localized is not None and naming == 0:
        upstream, upstream_ns = localized.service, None
    if upstream_ns is None and upstream is not None:
        upstream_ns = next(
            (a.namespace for a in related if _alert_target(a) == upstream and a.namespace),
            ctx.namespace,
        )
    own = [
        p
        for p in ev.pods()
        if component and (p.owner == component or p.name.startswith(f"{component}-"))
    ]
    dep = next((d for d in ev.deployments() if d.name == component), None)
    rollout = dep.current if dep and dep.previous else None
    first_failure = min((e.ts for e in failures), default=None)
    before = after = None
    if rollout is not None and first_failure is not None:
        if first_failure - RECENT_ROLLOUT <= rollout.created_at <= first_failure:
            before = rollout.created_at
        elif rollout.created_at > first_failure:
            after = rollout.created_at
    return _Findings(
        failures=failures,
        upstream=upstream,
        upstream_namespace=upstream_ns,
        naming=naming,
        upstream_alerts=[a for a in related if upstream and _alert_target(a) == upstream],
        own_pods=own,
        unhealthy=[p for p in own if _unhealthy(p)],
        rollout_before=before,
        rollout_after=after,
        localized=localized if localized is not None and localized.service == upstream else None,
    )


class UpstreamDependencyFailure(Pattern):
    id = "upstream_dependency_failure"
    title = "Upstream dependency failure"
    default_severity = Severity.HIGH
    alert_names = (
        r"HighErrorRate",
        r".*ErrorRate.*",
        r".*Errors?(High)?",
        r".*5xx.*",
        r"HighLatency",
        r".*Latency.*",
        r".*BurnRate.*",
        r".*SLO.*",
        r".*Availability.*",
        r".*Upstream.*",
        r".*Dependency.*",
    )
    metrics = (queries.ERROR_RATE, queries.LATENCY_P99)

    confirm_with = (
        "the caller's logs: which host the failing calls go to",
        "the dependency's own error rate, pods and alerts",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        f = _findings(ctx)
        ev = ctx.evidence
        component = ctx.component or "the service"
        enough = len(f.failures) >= 3
        # failed calls the log signatures recognise, in formats the word list misses
        signalled = ctx.signals.count(
            "upstream_timeout", "upstream_unavailable", "connection_refused", "connection_reset"
        )
        card.add(
            not enough and signalled >= 3,
            1.5,
            f"{signalled} log lines of calls that time out or are refused",
            "logs",
        )
        card.add(
            enough,
            2.0,
            f"{len(f.failures)} log lines show failed calls to a dependency, e.g. "
            f"{f.failures[0].line[:140]!r}"
            if f.failures
            else "",
            "logs",
        )
        card.add(
            enough and f.naming >= max(2, len(f.failures) // 2),
            1.0,
            f"{f.naming} of them name {f.upstream}",
            "logs",
        )
        card.add(
            f.localized is not None,
            1.0,
            f"the localization ranks {f.upstream} first: {f.localized.deciding}"
            if f.localized
            else "",
            f"metric:latency_p99@{f.upstream}",
        )
        card.add(
            bool(f.upstream_alerts),
            1.0,
            f"{f.upstream} has its own firing alert(s): "
            f"{', '.join(sorted({a.name for a in f.upstream_alerts}))}",
            "related_alerts",
        )
        card.add(
            bool(f.own_pods) and not f.unhealthy,
            0.5,
            f"{component}'s own {len(f.own_pods)} pod(s) are running and ready",
            "pods",
        )
        card.add(
            bool(f.unhealthy),
            -1.5,
            f"{component}'s own pods are unhealthy ({', '.join(p.name for p in f.unhealthy[:3])})",
            "pods",
        )
        symptom = next(
            (m for m in (ev.metric("error_rate"), ev.metric("latency_p99")) if m and m.anomalous),
            None,
        )
        card.add(
            symptom is not None,
            0.3,
            f"{symptom.name} {symptom.findings[0].sentence}" if symptom else "",
            symptom.id if symptom else None,
        )
        card.add(
            f.rollout_before is not None,
            -1.0,
            f"{component} itself was rolled out shortly before the failures began",
            "deployments",
        )
        card.add(
            f.rollout_after is not None,
            0.0,
            f"{component}'s own rollout came after the failures began, so it is not the cause",
            "deployments",
        )
        card.add(
            not enough and signalled < 3,
            -2.0,
            "the service's logs show no failing calls to a dependency",
        )
        upstream = f.upstream or "an upstream dependency"
        cause = f"{component} fails because its dependency {upstream} refuses or times out calls"
        return card, cause, [upstream, component] if f.upstream else [upstream]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        f = _findings(ctx)
        component = ctx.component or "the service"
        upstream = components[0]
        ns = f.upstream_namespace or ctx.namespace
        alerts = ", ".join(sorted({a.name for a in f.upstream_alerts})) or "none found"
        steps = [
            f"page the owner of {upstream} (not {component}): {component}'s errors are failed "
            f"calls to {upstream}",
            f"kubectl -n {ns or '<namespace>'} get pods,deploy -l app={upstream}; check its "
            f"own alerts ({alerts}), logs and recent changes",
            f"do not restart or roll back {component}: its pods are healthy and restarting them "
            "does not bring its dependency back",
            f"if the outage lasts, degrade {component} gracefully (feature flag, circuit "
            "breaker, cached answers) instead of retrying harder",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="service", name=upstream, namespace=ns),
                rationale=f"the fault is in {upstream}; nothing safe can be done on {component}",
                steps=steps,
            )
        ]


PATTERN = UpstreamDependencyFailure()
