"""Evidence first: with the real registry and reasoner, what the pods, events and logs show
decides the ranking; the alert's name is a bounded prior that never acts on its own, a
neighbour's trouble is never the alerting workload's cause, heartbeats are dismissed, and a
state alert about a workload that is healthy now is history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firstline.domain.alert import Alert, Severity, fingerprint_labels
from firstline.domain.decision import Outcome
from firstline.domain.evidence import (
    Deployment,
    Evidence,
    EvidenceSet,
    KubeEvent,
    LogEntry,
    LogEvidence,
    PodState,
    Provenance,
)
from firstline.domain.hypothesis import Analysis, RootCauseHypothesis
from firstline.patterns.base import PRIOR_CEILING
from firstline.patterns.registry import PatternRegistry
from firstline.policy.decision import DecisionInput, decide
from firstline.policy.schema import Mode, Policy
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.rules import PatternReasoner, build_context
from tests.unit.patterns import builders_a as b

REGISTRY = PatternRegistry.load()
REASONER = PatternReasoner(REGISTRY)
AUTO = Policy(mode=Mode.AUTO)
ACTING = {Outcome.AUTO_REMEDIATE, Outcome.REQUEST_APPROVAL}
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
PROV = Provenance(source="test", query="test", start=NOW - timedelta(hours=1), end=NOW)
NS = "shop"
WEB_POD = "web-6d4cf56db6-x2k9p"
UID = "5f1c2a9e-3b7d-4c1a-9e8f-2d6b4a7c9e10"
KSM = {"job": "kube-state-metrics", "service": "kube-state-metrics", "instance": "10.42.0.17:8080"}


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def _alert(name: str, **labels: str) -> Alert:
    merged = {"alertname": name, **labels}
    return Alert(
        source="alertmanager",
        name=name,
        labels=merged,
        starts_at=ago(5),
        fingerprint=fingerprint_labels(merged),
    )


def _crash_alert(name: str = "KubePodCrashLooping", pod: str = WEB_POD) -> Alert:
    return _alert(name, namespace=NS, pod=pod, container="app", severity="warning", **KSM)


def _evidence(
    pods: list[PodState] | None = None,
    events: list[KubeEvent] | None = None,
    workloads: list[Deployment] | None = None,
    lines: list[LogEntry] | None = None,
) -> EvidenceSet:
    """The kinds given, each as the item its source returns (ids pods, events, logs...)."""
    items: list[Evidence] = [
        build(*given)
        for build, given in ((b.pods, pods), (b.events, events), (b.deployments, workloads))
        if given is not None
    ]
    if lines is not None:
        items.append(LogEvidence(id="logs", provenance=PROV, entries=lines))
    return b.evidence(*items)


def _pod(name: str = WEB_POD, owner: str = "web", **fields: object) -> PodState:
    base: dict[str, object] = {
        "name": name,
        "namespace": NS,
        "owner": owner,
        "owner_kind": "Deployment",
        "node": "node-a",
        "container": "app",
        "labels": {"app": owner, "pod-template-hash": name.split("-")[-2]},
    }
    return PodState.model_validate({**base, **fields})


def _back_off(pod: str, minutes: float = 1, count: int = 20) -> KubeEvent:
    return KubeEvent(
        type="Warning",
        reason="BackOff",
        message=f"Back-off restarting failed container app in pod {pod}_{NS}({UID})",
        object=f"pod/{pod}",
        count=count,
        first_seen=ago(minutes + 40),
        last_seen=ago(minutes),
    )


def _web(ready: int = 1, replicas: int = 3, name: str = "web") -> Deployment:
    return Deployment(name=name, namespace=NS, replicas=replicas, ready_replicas=ready)


def _lines(text: str, count: int = 12, **labels: str) -> list[LogEntry]:
    return [LogEntry(ts=ago(10 - i / 2), line=text, labels=labels) for i in range(count)]


async def _analyze(alert: Alert, ev: EvidenceSet) -> Analysis:
    return await REASONER.analyze(
        ReasoningInput(alert=alert, severity=Severity.HIGH, candidates=REGISTRY.ids(), evidence=ev)
    )


def _ids(analysis: Analysis) -> list[str]:
    return [h.pattern for h in analysis.hypotheses]


def _hypothesis(analysis: Analysis, pattern: str) -> RootCauseHypothesis | None:
    return next((h for h in analysis.hypotheses if h.pattern == pattern), None)


def _confidence(analysis: Analysis, pattern: str) -> float:
    found = _hypothesis(analysis, pattern)
    if found is not None:
        return found.confidence
    ruled = next((r for r in analysis.ruled_out if r.pattern == pattern), None)
    assert ruled is not None, f"{pattern} neither hypothesised nor ruled out"
    return ruled.confidence


# -- (a) an OOM kill under a crash-loop alert ------------------------------------------------


def _oom_pod(name: str = WEB_POD, *, in_status: bool = True) -> PodState:
    message = f"back-off 5m0s restarting failed container=app pod={name}_{NS}({UID})"
    if in_status:
        return _pod(
            name,
            ready=False,
            restart_count=6,
            waiting_reason="CrashLoopBackOff",
            waiting_message=message,
            last_termination_reason="OOMKilled",
            last_exit_code=137,
            last_termination_at=ago(2),
        )
    return _pod(
        name,
        ready=False,
        restart_count=6,
        waiting_reason="CrashLoopBackOff",
        waiting_message=f"{message} last terminated: reason=OOMKilled, exit_code=137",
    )


@pytest.mark.parametrize("alert_name", ["KubePodCrashLooping", "PodCrashLooping"])
async def test_oom_killed_pod_under_a_crash_loop_alert_ranks_oom_first(alert_name: str) -> None:
    ev = _evidence(pods=[_oom_pod()], events=[_back_off(WEB_POD)], workloads=[_web()])
    analysis = await _analyze(_crash_alert(alert_name), ev)
    top = analysis.hypotheses[0]
    assert top.pattern == "oom_kill_loop", _ids(analysis)
    assert top.basis == "evidence" and top.verified
    assert "pods" in top.evidence_refs
    assert top.confidence > _confidence(analysis, "crash_loop_bad_config")


async def test_oom_only_in_the_kubelet_waiting_message_still_ranks_oom_first() -> None:
    ev = _evidence(
        pods=[_oom_pod(in_status=False)], events=[_back_off(WEB_POD)], workloads=[_web()]
    )
    analysis = await _analyze(_crash_alert(), ev)
    top = analysis.hypotheses[0]
    assert top.pattern == "oom_kill_loop", _ids(analysis)
    assert top.verified
    assert top.confidence > _confidence(analysis, "crash_loop_bad_config")


# -- (b) an expired certificate behind a crash loop ------------------------------------------


async def test_expired_certificate_in_logs_outranks_bad_config() -> None:
    crashing = _pod(
        ready=False,
        restart_count=5,
        waiting_reason="CrashLoopBackOff",
        waiting_message=f"back-off 2m40s restarting failed container=app pod={WEB_POD}_{NS}({UID})",
        last_termination_reason="Error",
        last_exit_code=1,
        last_termination_at=ago(2),
    )
    line = (
        'level=fatal msg="cannot connect to payments" err="Get \\"https://payments.shop.svc:8443/'
        'health\\": tls: failed to verify certificate: x509: certificate has expired or is not '
        'yet valid: current time 2026-05-04T09:58:11Z is after 2026-05-03T00:00:00Z"'
    )
    ev = _evidence(
        pods=[crashing],
        events=[_back_off(WEB_POD)],
        workloads=[_web()],
        lines=_lines(line, app="web", pod=WEB_POD),
    )
    analysis = await _analyze(_crash_alert(), ev)
    cert = _hypothesis(analysis, "certificate_expiry")
    assert cert is not None, _ids(analysis)
    assert cert.verified and "logs" in cert.evidence_refs
    ids = _ids(analysis)
    bad_config = _confidence(analysis, "crash_loop_bad_config")
    assert cert.confidence > bad_config
    if "crash_loop_bad_config" in ids:
        assert ids.index("certificate_expiry") < ids.index("crash_loop_bad_config")


# -- (c) DNS failures under an application alert ---------------------------------------------


async def test_dns_failures_in_logs_reach_dns_resolution_failure() -> None:
    alert = _alert("AppDown", namespace=NS, service="checkout", severity="critical")
    lines = [
        *_lines(
            "Error: getaddrinfo ENOTFOUND payments.shop.svc.cluster.local",
            8,
            app="checkout",
        ),
        *_lines(
            "WARN Failed to resolve 'payments.shop.svc.cluster.local' "
            "[Errno -2] Name or service not known",
            6,
            app="checkout",
        ),
    ]
    pods = [_pod("checkout-5c4b3a2d1-a1b2c", owner="checkout")]
    analysis = await _analyze(alert, _evidence(pods=pods, lines=lines))
    assert "dns_resolution_failure" in _ids(analysis)[:3], _ids(analysis)
    dns = _hypothesis(analysis, "dns_resolution_failure")
    assert dns is not None and dns.verified and "logs" in dns.evidence_refs


# -- (d) a neighbour's crash loop is not the Job's cause -------------------------------------


async def test_a_failed_job_is_not_blamed_on_a_crash_looping_neighbour() -> None:
    alert = _alert(
        "KubeJobFailed",
        namespace=NS,
        job_name="nightly-export",
        severity="warning",
        pod="kube-state-metrics-6c9f8b7d4-k2x9q",
        container="kube-state-metrics",
        **KSM,
    )
    job_pod = PodState(
        name="nightly-export-28391040-x7k2p",
        namespace=NS,
        phase="Failed",
        ready=False,
        owner="nightly-export",
        owner_kind="Job",
        container="export",
        labels={"job-name": "nightly-export", "batch.kubernetes.io/job-name": "nightly-export"},
        last_termination_reason="Error",
        last_exit_code=1,
        last_termination_at=ago(20),
    )
    neighbours = [
        _oom_pod("reports-api-7f9c8d6b5-q8w4z").model_copy(
            update={"owner": "reports-api", "restart_count": 22}
        ),
        _oom_pod("reports-api-7f9c8d6b5-m3n7b").model_copy(
            update={"owner": "reports-api", "restart_count": 19}
        ),
    ]
    events = [
        KubeEvent(
            type="Warning",
            reason="BackoffLimitExceeded",
            message="Job has reached the specified backoff limit",
            object="job/nightly-export",
            last_seen=ago(19),
            first_seen=ago(19),
        ),
        _back_off("reports-api-7f9c8d6b5-q8w4z"),
        _back_off("reports-api-7f9c8d6b5-m3n7b"),
    ]
    ev = _evidence(
        pods=[job_pod, *neighbours],
        events=events,
        workloads=[_web(ready=0, replicas=2, name="reports-api")],
        lines=_lines("fatal: out of memory allocating 268435456 bytes", 5, app="reports-api"),
    )
    analysis = await _analyze(alert, ev)
    confident = [h for h in analysis.hypotheses if h.confidence >= 0.6]
    for h in confident:
        about = " ".join([h.cause, *h.affected_components])
        assert "reports-api" not in about, (h.pattern, h.confidence, about)
    for pattern in ("oom_kill_loop", "crash_loop_bad_config"):
        assert _confidence(analysis, pattern) < 0.6, (pattern, _ids(analysis))
    assert analysis.hypotheses and analysis.hypotheses[0].pattern == "job_failure", _ids(analysis)
    # the same evidence is a confident OOM loop when the alert is about reports-api itself
    theirs = await _analyze(_crash_alert(pod="reports-api-7f9c8d6b5-q8w4z"), ev)
    assert theirs.hypotheses[0].pattern == "oom_kill_loop", _ids(theirs)
    assert theirs.hypotheses[0].confidence >= 0.6


# -- (e) the prior alone is bounded and never acts -------------------------------------------

UNDERSTOOD = [
    _crash_alert(),
    _alert("KubeJobFailed", namespace=NS, job_name="nightly-export", **KSM),
    _alert("KubeQuotaExceeded", namespace=NS, resourcequota="compute-quota", resource="cpu", **KSM),
    _alert("KubeDeploymentReplicasMismatch", namespace=NS, deployment="web", **KSM),
    _alert("KubeContainerWaiting", namespace=NS, pod=WEB_POD, container="app", **KSM),
    _alert("KubeNodeNotReady", node="node-a", condition="Ready", status="true", **KSM),
    _alert(
        "NodeFilesystemSpaceFillingUp",
        instance="10.0.3.12:9100",
        job="node-exporter",
        mountpoint="/",
        device="/dev/nvme0n1p1",
    ),
    _alert("KubeClientCertificateExpiration", job="apiserver"),
    _alert("HighErrorRate", namespace=NS, service="checkout", severity="critical"),
]


@pytest.mark.parametrize("alert", UNDERSTOOD, ids=lambda a: a.name)
async def test_with_no_evidence_every_hypothesis_is_a_bounded_unverified_guess(
    alert: Alert,
) -> None:
    analysis = await _analyze(alert, EvidenceSet())
    for h in analysis.hypotheses:
        assert h.basis == "alert", (h.pattern, h.basis, h.signals)
        assert h.verified is False, h.pattern
        assert h.confidence <= PRIOR_CEILING, (h.pattern, h.confidence)
    for r in analysis.ruled_out:
        assert r.confidence <= PRIOR_CEILING, (r.pattern, r.confidence)
    decision = decide(DecisionInput(alert, Severity.CRITICAL, analysis), AUTO)
    assert decision.outcome not in ACTING, decision
    assert decision.outcome is Outcome.ESCALATE
    assert decision.rule == "no_hypothesis"
    assert decision.actions == []


async def test_strongly_suggested_patterns_are_shown_as_guesses() -> None:
    """Guessing is not silence: the catalog's strong suggestion is ranked, just unverified."""
    analysis = await _analyze(
        _alert("KubeJobFailed", namespace=NS, job_name="nightly-export", **KSM), EvidenceSet()
    )
    job = _hypothesis(analysis, "job_failure")
    assert job is not None and job.basis == "alert" and not job.verified
    assert analysis.hypotheses[0].pattern == "job_failure"


async def test_the_prior_alone_stays_below_the_ceiling_next_to_unrelated_evidence() -> None:
    """Evidence exists but says nothing for the suggested patterns: the alert's prior is all
    they have, and it stops below the ceiling."""
    healthy = [_pod(restart_count=0), _pod("web-6d4cf56db6-m3n7b", restart_count=0)]
    ev = _evidence(pods=healthy, events=[], workloads=[_web(ready=3)])
    for alert in UNDERSTOOD[:5]:
        analysis = await _analyze(alert, ev)
        for h in analysis.hypotheses:
            if not h.verified:
                assert h.confidence <= PRIOR_CEILING, (alert.name, h.pattern, h.confidence)
        decision = decide(DecisionInput(alert, Severity.CRITICAL, analysis), AUTO)
        assert decision.outcome not in ACTING, (alert.name, decision)


# -- (f) heartbeats -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alert",
    [
        _alert("Watchdog", namespace="monitoring", prometheus="monitoring/k8s", severity="none"),
        _alert("InfoInhibitor", namespace=NS, prometheus="monitoring/k8s", severity="none"),
    ],
    ids=lambda a: a.name,
)
async def test_heartbeats_are_dismissed(alert: Alert) -> None:
    analysis = await _analyze(alert, EvidenceSet())
    assert analysis.hypotheses[0].pattern == "no_real_incident", _ids(analysis)
    decision = decide(DecisionInput(alert, Severity.LOW, analysis), AUTO)
    assert decision.outcome is Outcome.DISMISS
    assert decision.rule == "no_real_incident"
    assert decision.actions == []


# -- (g) healthy now ------------------------------------------------------------------------


def _recovered_evidence() -> EvidenceSet:
    pods = [
        _pod(
            restart_count=4,
            last_termination_reason="Error",
            last_exit_code=1,
            last_termination_at=ago(31),
            started_at=ago(30),
        ),
        _pod("web-6d4cf56db6-m3n7b", restart_count=0, started_at=ago(120)),
        _pod("web-6d4cf56db6-p5r6t", restart_count=0, started_at=ago(120)),
    ]
    return _evidence(
        pods=pods, events=[_back_off(WEB_POD, minutes=30, count=4)], workloads=[_web(ready=3)]
    )


async def test_a_state_alert_about_a_workload_healthy_now_is_no_real_incident() -> None:
    alert = _crash_alert()
    ev = _recovered_evidence()
    ctx = build_context(ReasoningInput(alert=alert, severity=Severity.HIGH, evidence=ev), REGISTRY)
    assert ctx.recovered is not None and "3/3" in ctx.recovered
    analysis = await _analyze(alert, ev)
    assert analysis.hypotheses[0].pattern == "no_real_incident", _ids(analysis)
    assert analysis.hypotheses[0].verified
    assert _confidence(analysis, "crash_loop_bad_config") < analysis.hypotheses[0].confidence
    decision = decide(DecisionInput(alert, Severity.MEDIUM, analysis), AUTO)
    assert decision.outcome not in ACTING


async def test_the_same_evidence_under_an_error_rate_alert_gets_no_recovery_boost() -> None:
    crash = _crash_alert()
    rate = _alert("HighErrorRate", namespace=NS, deployment="web", severity="critical")
    ev = _recovered_evidence()
    ctx = build_context(ReasoningInput(alert=rate, severity=Severity.HIGH, evidence=ev), REGISTRY)
    assert ctx.recovered is None  # healthy pods say nothing about an error rate
    as_state = await _analyze(crash, ev)
    as_rate = await _analyze(rate, ev)
    assert _confidence(as_rate, "no_real_incident") < _confidence(as_state, "no_real_incident")
    assert not (as_rate.hypotheses and as_rate.hypotheses[0].pattern == "no_real_incident")
    noise = _hypothesis(as_rate, "no_real_incident")
    assert noise is None or not any("healthy now" in s for s in noise.signals)
