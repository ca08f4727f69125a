"""dns_resolution_failure: CoreDNS down (restart it) versus the upstream resolver (a person)."""

from __future__ import annotations

from firstline.domain.action import Risk
from firstline.patterns.library.dns_resolution_failure import PATTERN

from .builders_a import (
    action_types,
    alert,
    bundle_verdict,
    evaluate,
    evidence,
    hypothesis,
    logs,
    pod,
    pods,
    ruled_out,
    ruled_out_or_weak,
    series,
    targets,
)

_LOOKUP = "dial tcp: lookup redis.shop.svc.cluster.local on 10.96.0.10:53: i/o timeout"


def test_bundle_coredns_unready_restarts_coredns() -> None:
    _, _, verdict = bundle_verdict("dns-coredns-unready-shop", PATTERN.id)
    h = hypothesis(verdict)
    assert h.pattern == "dns_resolution_failure"
    assert 0.8 <= h.confidence <= 0.95
    assert action_types(h) == ["restart"]
    assert targets(h) == ["deployment/kube-system/coredns"]
    assert h.suggested_actions[0].risk is Risk.LOW
    assert {"logs", "pods"} <= set(h.evidence_refs)


def test_bundle_upstream_resolver_escalates() -> None:
    _, _, verdict = bundle_verdict("dns-upstream-resolver-servfail", PATTERN.id)
    h = hypothesis(verdict)
    assert 0.8 <= h.confidence <= 0.95
    assert action_types(h) == ["manual_only"]
    assert h.affected_components == ["10.0.0.2:53"]
    assert "metric:dns_servfail_rate" in h.evidence_refs


def test_forwarding_loop_is_not_restarted() -> None:
    ev = evidence(
        logs(
            (-6, _LOOKUP, {"app": "cart"}),
            (-6, "getaddrinfo EAI_AGAIN catalog-db", {"app": "catalog"}),
            (-7, "[FATAL] plugin/loop: Loop (127.0.0.1:53 -> :53) detected", {"app": "coredns"}),
            repeat=4,
        ),
        pods(pod("coredns-5d78-a", "coredns", namespace="kube-system", ready=False)),
    )
    h = hypothesis(evaluate(PATTERN, alert("HighErrorRate"), ev))
    assert action_types(h) == ["manual_only"]


def test_one_service_one_bad_hostname_stays_below_threshold() -> None:
    ev = evidence(
        logs((-3, "dial tcp: lookup paymnets-api: no such host", {"app": "cart"}), repeat=2),
        pods(pod("coredns-5d78-a", "coredns", namespace="kube-system")),
        series("dns_servfail_rate", 0.05),
    )
    assert ruled_out_or_weak(evaluate(PATTERN, alert("HighErrorRate"), ev))


def test_errors_without_resolution_failures_are_ruled_out() -> None:
    ev = evidence(
        series("error_rate", 0.002, to=0.3, unit="ratio"),
        logs((-3, "connection refused calling payments-api:8080", {"app": "cart"}), repeat=10),
    )
    out = ruled_out(evaluate(PATTERN, alert("HighErrorRate"), ev))
    assert out.confidence < 0.1
