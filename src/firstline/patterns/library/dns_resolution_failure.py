"""DNS resolution failure: names stop resolving, so callers fail to reach healthy services.

Typical alerts: CoreDNSDown, CoreDNSErrorsHigh, CoreDNSForward*, and the HighErrorRate of
the services that cannot resolve. The key signal is resolution errors in logs ("no such
host", "Temporary failure in name resolution", "lookup ... on 10.96.0.10:53: i/o timeout",
SERVFAIL); it becomes convincing when several services fail at once, CoreDNS is unhealthy
or answers SERVFAIL. One service failing to resolve one name is more often a typo in its
own configuration.

When CoreDNS itself is unhealthy (pods not ready, crash-looping), a rolling restart of it is
the low-risk fix. When CoreDNS is healthy but its upstream resolver fails, or CoreDNS detects
a forwarding loop, restarting changes nothing: a person gets exact steps.
"""

from __future__ import annotations

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import EvidenceSet, LogEntry, MetricEvidence, PodState
from firstline.domain.query import MetricQuery
from firstline.patterns.base import Pattern, PatternContext, Scorecard

_COREDNS_JOB = 'job=~"coredns|kube-dns"'

DNS_SERVFAIL_RATE = MetricQuery(
    name="dns_servfail_rate",
    unit="resp/s",
    promql=f'sum(rate(coredns_dns_responses_total{{{_COREDNS_JOB},rcode="SERVFAIL"}}[5m]))',
    description="SERVFAIL answers per second from the cluster DNS.",
)
DNS_FORWARD_FAILURES = MetricQuery(
    name="dns_forward_failures",
    unit="req/s",
    promql=(
        "sum(rate(coredns_forward_healthcheck_failures_total[5m]))"
        ' + sum(rate(coredns_forward_responses_total{rcode="SERVFAIL"}[5m]))'
    ),
    description="Failures of CoreDNS's upstream resolvers.",
)
DNS_COREDNS_UP = MetricQuery(
    name="dns_coredns_up",
    unit="targets",
    promql=f"sum(up{{{_COREDNS_JOB}}})",
    description="CoreDNS instances Prometheus can scrape.",
)

RESOLUTION_LINES = (
    "no such host",
    "temporary failure in name resolution",
    "name or service not known",
    "servfail",
    "server misbehaving",
    "could not resolve host",
    "unknownhostexception",
    "getaddrinfo enotfound",
    "getaddrinfo eai_again",
    "name resolution failed",
    "dns resolution failed",
)
_UNHEALTHY_WAITING = {"CrashLoopBackOff", "Error", "ContainerCreating", "CreateContainerError"}


def _is_resolution_error(entry: LogEntry) -> bool:
    line = entry.line.lower()
    if any(n in line for n in RESOLUTION_LINES):
        return True
    return "lookup " in line and ":53" in line and ("timeout" in line or "refused" in line)


def _source(entry: LogEntry) -> str:
    labels = entry.labels
    name = labels.get("app") or labels.get("service") or labels.get("container")
    return name or labels.get("pod", "?").rsplit("-", 2)[0]


def _coredns_pods(pods: list[PodState]) -> list[PodState]:
    return [p for p in pods if (p.owner or p.name).startswith(("coredns", "kube-dns"))]


def _unhealthy_coredns(ev: EvidenceSet) -> list[str]:
    """Why CoreDNS looks unhealthy; empty when it looks fine or is not visible."""
    reasons = []
    pods = _coredns_pods(ev.pods())
    bad = [
        p
        for p in pods
        if not p.ready or p.waiting_reason in _UNHEALTHY_WAITING or p.phase != "Running"
    ]
    if bad:
        reasons.append(f"{len(bad)} of {len(pods)} CoreDNS pods not ready")
    up = ev.metric("dns_coredns_up")
    if up is not None and up.anomalous and up.findings[0].direction == "down":
        reasons.append(f"CoreDNS scrape targets {up.findings[0].sentence}")
    return reasons


def _rising(metric: MetricEvidence | None) -> bool:
    return bool(metric and metric.anomalous and metric.findings[0].direction == "up")


def _loop_detected(ev: EvidenceSet) -> bool:
    logs = ev.logs()
    return bool(logs and logs.count_matching("plugin/loop", "loop detected"))


class DnsResolutionFailure(Pattern):
    id = "dns_resolution_failure"
    title = "DNS resolution failing"
    default_severity = Severity.HIGH
    alert_names = (
        r"CoreDNS.*",
        r"KubeDNS.*",
        r".*DNS.*",
        r".*Error.?Rate.*",
        r"BlackboxProbeFailed",
    )
    metrics = (DNS_SERVFAIL_RATE, DNS_FORWARD_FAILURES, DNS_COREDNS_UP)
    confirm_with = (
        "callers' logs: 'no such host', SERVFAIL, 'server misbehaving', EAI_AGAIN",
        "kubectl -n kube-system logs deploy/coredns and the Corefile's forward line",
        "nslookup from a debug pod against the cluster DNS service",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        logs = ev.logs()
        failing = [e for e in logs.entries if _is_resolution_error(e)] if logs else []
        sources = sorted({_source(e) for e in failing} - {"coredns"})
        # resolution fails cluster-wide as often as for one caller: every workload counts
        signalled = ctx.signals.of("dns_failure", in_scope=None)
        failed = max(len(failing), sum(s.count for s in signalled))
        sources = sorted({*sources, *(s.workload for s in signalled if s.workload)} - {"coredns"})
        card.add(failed >= 3, 2.0, f"{failed} log lines of failed name resolution", "logs")
        card.add(0 < failed < 3, 1.0, f"{failed} failed name resolution(s)", "logs")
        related = ev.related()
        others = [
            a
            for a in (related.alerts if related else [])
            if a.service and a.service != ctx.component
        ]
        many = len(sources) >= 2 or (failed > 0 and len({a.service for a in others}) >= 2)
        card.add(
            many,
            1.0,
            f"several services fail to resolve at once ({', '.join(sources[:4])})",
            "related_alerts" if len(sources) < 2 else "logs",
        )
        unhealthy = _unhealthy_coredns(ev)
        card.add(bool(unhealthy), 1.25, "; ".join(unhealthy), "pods")
        servfail = ev.metric("dns_servfail_rate")
        forward = ev.metric("dns_forward_failures")
        dns_errors = next((m for m in (servfail, forward) if _rising(m)), None)
        card.add(
            dns_errors is not None,
            1.0,
            f"{dns_errors.name} {dns_errors.findings[0].sentence}" if dns_errors else "",
            dns_errors.id if dns_errors else None,
        )
        card.add(
            bool(logs and logs.count_matching("plugin/errors", "plugin/loop")),
            0.5,
            "CoreDNS logs errors itself",
            "logs",
        )
        card.add(
            failed == 0 and dns_errors is None and not many,
            -2.5,
            "no failing name resolution in logs and no DNS error rate",
        )
        if unhealthy and not _loop_detected(ev):
            return card, "CoreDNS is unhealthy, so in-cluster name resolution fails", ["coredns"]
        upstream = self._upstream(forward)
        return (
            card,
            f"name resolution fails upstream of CoreDNS ({upstream})",
            [upstream],
        )

    @staticmethod
    def _upstream(forward: MetricEvidence | None) -> str:
        if forward is not None and (to := forward.labels.get("to")):
            return to
        return "upstream-resolver"

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        ev = ctx.evidence
        pods = _coredns_pods(ev.pods())
        namespace = pods[0].namespace if pods else "kube-system"
        name = (pods[0].owner if pods and pods[0].owner else None) or "coredns"
        if components[0] == "coredns":
            return [
                make_action(
                    ActionType.RESTART,
                    Target(kind="deployment", name=name, namespace=namespace),
                    rationale="CoreDNS pods are unhealthy while the rest of the cluster is "
                    "fine; fresh pods restore resolution",
                )
            ]
        loop = _loop_detected(ev)
        upstream = components[0]
        resolver = (
            upstream.split(":")[0]
            if upstream != "upstream-resolver"
            else "<address in the Corefile's forward line>"
        )
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="dns-resolver", name=components[0], namespace=None),
                rationale=(
                    "CoreDNS detected a forwarding loop; restarting it reproduces the loop"
                    if loop
                    else "CoreDNS is healthy but its upstream resolver fails; restarting "
                    "CoreDNS changes nothing"
                ),
                steps=[
                    f"kubectl -n {namespace} logs -l k8s-app=kube-dns --tail=100",
                    f"kubectl -n {namespace} get configmap coredns -o yaml  # check forward",
                    f"from a node: dig @{resolver} <failing name>  # does the upstream answer?",
                    "check the node's /etc/resolv.conf and the cloud/VPC resolver status",
                    "if the upstream is down: point `forward` at a secondary resolver in a "
                    "reviewed change, then kubectl rollout restart deployment/coredns",
                ],
            )
        ]


PATTERN = DnsResolutionFailure()
