"""no_real_incident: flapping or already-resolved alerts with nothing abnormal are dismissed;
on real incidents the pattern stays quiet."""

from __future__ import annotations

import pytest

from firstline.domain.alert import Severity
from firstline.domain.decision import Outcome
from firstline.domain.evidence import MetricEvidence
from firstline.domain.hypothesis import NO_INCIDENT, Analysis
from firstline.patterns.library.no_real_incident import PATTERN
from firstline.policy.decision import DecisionInput, decide
from firstline.policy.schema import Mode, Policy
from firstline.scenarios.loader import discover, load_bundle

from .builders_b import bundle_context, context, evidence, make_alert, pod, series
from .replay import SCENARIOS


def _quiet_metrics() -> list[MetricEvidence]:
    return [
        series("error_rate", 0.002, unit="ratio"),
        series("latency_p99", 0.2, unit="seconds"),
    ]


def test_universal_and_actionless() -> None:
    assert PATTERN.id == NO_INCIDENT
    assert PATTERN.universal


def test_flapping_alert_with_normal_metrics_is_dismissed() -> None:
    alert = make_alert("NodeDiskIOSaturation", namespace="monitoring", service="node-exporter")
    ev = evidence(
        metrics=_quiet_metrics(),
        pods=[pod("node-exporter-a", "node-exporter", namespace="monitoring")],
        flap_count=8,
    )
    h = PATTERN.evaluate(context(alert, ev)).hypothesis
    assert h is not None and h.pattern == NO_INCIDENT
    assert 0.85 <= h.confidence <= 0.95
    assert h.suggested_actions == []
    assert {"related_alerts", "pods"} <= set(h.evidence_refs)
    analysis = Analysis(reasoner="patterns", hypotheses=[h])
    decision = decide(
        DecisionInput(alert=alert, severity=Severity.MEDIUM, analysis=analysis),
        Policy(mode=Mode.AUTO),
    )
    assert decision.outcome is Outcome.DISMISS


def test_short_blip_that_resolved_is_noise() -> None:
    alert = make_alert("HighCPUUsage", namespace="media", service="thumbnailer", started=9, ended=5)
    ev = evidence(metrics=_quiet_metrics(), pods=[pod("thumbnailer-a", "thumbnailer")])
    h = PATTERN.evaluate(context(alert, ev)).hypothesis
    assert h is not None and h.confidence >= 0.85
    assert "resolved on its own after 4 min" in h.cause


def test_flapping_but_broken_is_a_real_incident() -> None:
    """Near miss: the alert flaps, yet errors are up now and pods are crash-looping."""
    alert = make_alert("HighErrorRate", namespace="shop", service="cart")
    ev = evidence(
        metrics=[series("error_rate", 0.002, to=0.2, unit="ratio")],
        pods=[pod("cart-a", "cart", ready=False, waiting_reason="CrashLoopBackOff")],
        flap_count=4,
    )
    verdict = PATTERN.evaluate(context(alert, ev))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.2


def test_steadily_firing_alert_with_healthy_infra_is_not_noise() -> None:
    """Near miss: everything technical looks fine, but the alert fires steadily: unknown, not
    noise (a business metric may really have dropped)."""
    alert = make_alert("CheckoutConversionDrop", namespace="shop", service="checkout")
    ev = evidence(metrics=_quiet_metrics(), pods=[pod("checkout-a", "checkout")])
    verdict = PATTERN.evaluate(context(alert, ev))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.2


@pytest.mark.parametrize(
    "name", ["noise-flapping-disk-latency", "noise-cpu-blip-resolved-thumbnailer"]
)
async def test_noise_bundles(name: str) -> None:
    h = PATTERN.evaluate(await bundle_context(name)).hypothesis
    assert h is not None and h.confidence >= 0.85


REAL = [p.name for p in discover(SCENARIOS) if load_bundle(p).spec.expected.pattern != NO_INCIDENT]


@pytest.mark.parametrize("name", REAL)
async def test_quiet_on_every_real_incident_bundle(name: str) -> None:
    verdict = PATTERN.evaluate(await bundle_context(name))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.2
