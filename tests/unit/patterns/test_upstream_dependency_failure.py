"""upstream_dependency_failure: the caller's logs show failed calls to one named dependency;
the root cause is that dependency and the incident goes to its owner."""

from __future__ import annotations

import pytest

from firstline.domain.action import ActionType
from firstline.domain.alert import Alert
from firstline.domain.evidence import LogEntry, PodState
from firstline.patterns.library.upstream_dependency_failure import PATTERN

from .builders_b import (
    bundle_context,
    context,
    deployment,
    evidence,
    log,
    logs,
    make_alert,
    pod,
    series,
)

REFUSED = (
    "ERROR PaymentClient - charge failed: POST "
    "http://payments-api.payments.svc.cluster.local:8080/v1/charges: Connection refused"
)


def _alert() -> Alert:
    return make_alert("HighErrorRate", namespace="shop", service="checkout")


def _pods(**fields: object) -> list[PodState]:
    return [pod(f"checkout-{c}", "checkout", **fields) for c in "abc"]


def _failures(line: str = REFUSED, count: int = 12) -> list[LogEntry]:
    return logs(line, count=count, pod="checkout-a", app="checkout")


def test_refused_calls_to_a_named_dependency_with_its_own_alert() -> None:
    related = [make_alert("TargetDown", namespace="payments", service="payments-api")]
    ev = evidence(
        metrics=[series("error_rate", 0.002, to=0.3, unit="ratio")],
        log_entries=[log("INFO order placed", 30, app="checkout"), *_failures()],
        pods=_pods(),
        deployments=[deployment("checkout")],
        related=related,
    )
    h = PATTERN.evaluate(context(_alert(), ev)).hypothesis
    assert h is not None and h.pattern == "upstream_dependency_failure"
    assert 0.88 <= h.confidence <= 0.95
    assert h.affected_components == ["payments-api", "checkout"]
    assert {"logs", "related_alerts", "pods", "metric:error_rate"} <= set(h.evidence_refs)
    [action] = h.suggested_actions
    assert action.type is ActionType.MANUAL_ONLY
    assert str(action.target) == "service/payments/payments-api"
    assert any("do not restart or roll back checkout" in s for s in action.steps)


@pytest.mark.parametrize(
    ("line", "upstream"),
    [
        ('err="Get \\"http://inventory:8080/v2/stock\\": context deadline exceeded"', "inventory"),
        (
            "upstream connect error or disconnect/reset before headers. reset reason: connection "
            'failure "ledger.finance.svc.cluster.local:8443"',
            "ledger",
        ),
        ("java.net.ConnectException: Connection refused (pricing-engine:9000)", "pricing-engine"),
        (
            "rpc error: code = Unavailable desc = dial tcp fraud-scoring:9090: connection refused",
            "fraud-scoring",
        ),
        ("POST /v1/send returned 503 Service Unavailable from sms-gateway", "sms-gateway"),
        # structured logs name the dependency in a field, whatever address they dialled
        (
            '{"level":"error","event":"call failed","dependency":"catalog",'
            '"error":"dial tcp 127.0.0.1:8602: connect: connection refused"}',
            "catalog",
        ),
        (
            'level=error msg="call failed" peer.service=pricing-engine err="connection refused"',
            "pricing-engine",
        ),
    ],
)
def test_common_log_formats_name_the_dependency(line: str, upstream: str) -> None:
    ev = evidence(log_entries=_failures(line), pods=_pods())
    h = PATTERN.evaluate(context(_alert(), ev)).hypothesis
    assert h is not None and h.confidence >= 0.7
    assert h.affected_components[0] == upstream


def test_own_application_errors_are_ruled_out() -> None:
    """Near miss: the service errors, but on its own bug, not on a dependency."""
    line = "ERROR OrderService - java.lang.NullPointerException: cart.items is null"
    ev = evidence(
        metrics=[series("error_rate", 0.002, to=0.3, unit="ratio")],
        log_entries=_failures(line),
        pods=_pods(),
    )
    verdict = PATTERN.evaluate(context(_alert(), ev))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.1
    assert "no failing calls to a dependency" in verdict.ruled_out.reason


def test_dns_failures_are_left_to_the_dns_pattern() -> None:
    """Near miss: the calls fail on name resolution, which another pattern explains."""
    line = (
        'Get "http://payments-api:8080/v1/charges": dial tcp: lookup payments-api on '
        "10.96.0.10:53: no such host"
    )
    verdict = PATTERN.evaluate(context(_alert(), evidence(log_entries=_failures(line))))
    assert verdict.hypothesis is None


def test_failures_logged_by_another_workload_do_not_count() -> None:
    other = logs(REFUSED, count=12, pod="invoicer-x", app="invoicer")
    verdict = PATTERN.evaluate(context(_alert(), evidence(log_entries=other, pods=_pods())))
    assert verdict.hypothesis is None


def test_crash_looping_own_pods_keep_it_below_the_action_threshold() -> None:
    """Refused connections from pods that are themselves crash-looping point at the service."""
    ev = evidence(
        metrics=[series("error_rate", 0.002, to=0.3, unit="ratio")],
        log_entries=_failures(),
        pods=_pods(ready=False, restart_count=6, waiting_reason="CrashLoopBackOff"),
    )
    h = PATTERN.evaluate(context(_alert(), ev)).hypothesis
    assert h is not None and h.confidence < 0.6


async def test_bundles() -> None:
    refused = PATTERN.evaluate(await bundle_context("upstream-payments-refused-checkout"))
    assert refused.hypothesis is not None and refused.hypothesis.confidence >= 0.88
    assert refused.hypothesis.affected_components[0] == "payments-api"
    timeouts = PATTERN.evaluate(await bundle_context("upstream-inventory-timeouts-storefront"))
    assert timeouts.hypothesis is not None
    assert 0.7 <= timeouts.hypothesis.confidence < 0.88  # no alert on the dependency
    assert timeouts.hypothesis.affected_components[0] == "inventory"


async def test_own_deploy_after_the_failures_is_not_held_against_it() -> None:
    ctx = await bundle_context("red-herring-own-deploy-after-errors-notifications")
    h = PATTERN.evaluate(ctx).hypothesis
    assert h is not None and h.confidence >= 0.88
    assert h.affected_components[0] == "sms-gateway"
    assert any("came after the failures began" in s for s in h.signals)
    assert ActionType.ROLLBACK not in {a.type for a in h.suggested_actions}


async def test_multi_alert_root_cause_is_the_crash_looping_dependency() -> None:
    h = PATTERN.evaluate(await bundle_context("multi-alert-fraud-crashloop-orders")).hypothesis
    assert h is not None and h.confidence >= 0.88
    assert h.affected_components[0] == "fraud-scoring"
    assert str(h.suggested_actions[0].target) == "service/risk/fraud-scoring"
