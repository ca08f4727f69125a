"""cpu_saturation: throttling or usage pinned at the CPU limit; raise the limit under steady
load, scale out under a traffic surge."""

from __future__ import annotations

from firstline.domain.action import ActionType
from firstline.domain.alert import Alert
from firstline.domain.evidence import Deployment, MetricEvidence, PodState
from firstline.patterns.library.cpu_saturation import PATTERN, format_cpu, parse_cpu

from .builders_b import bundle_context, context, deployment, evidence, make_alert, pod, series


def _alert(name: str = "CPUThrottlingHigh") -> Alert:
    return make_alert(name, namespace="edge", container="api-gateway", pod="api-gateway-a")


def _pods() -> list[PodState]:
    return [pod(f"api-gateway-{c}", "api-gateway", namespace="edge") for c in "abcd"]


def _gateway(rollout_minutes_ago: float | None = None) -> Deployment:
    revisions = [(52, 60 * 24 * 18, "edge/api-gateway:5.11.0")]
    if rollout_minutes_ago is not None:
        revisions.append((53, rollout_minutes_ago, "edge/api-gateway:5.12.0"))
    return deployment(
        "api-gateway", namespace="edge", replicas=4, revisions=revisions, cpu_limit="500m"
    )


def _saturated(load_to: float = 2200) -> list[MetricEvidence]:
    return [
        series("cpu_throttled_ratio", 0.05, to=0.45, unit="ratio"),
        series("cpu_usage", 1.4, to=1.95, unit="cores"),
        series("latency_p99", 0.12, to=0.3, unit="seconds"),
        series("request_rate", 2000, to=load_to, unit="req/s"),
    ]


def test_throttled_at_steady_load_raises_the_limit() -> None:
    ev = evidence(metrics=_saturated(), pods=_pods(), deployments=[_gateway()])
    h = PATTERN.evaluate(context(_alert(), ev)).hypothesis
    assert h is not None and h.pattern == "cpu_saturation"
    assert 0.88 <= h.confidence <= 0.97
    assert {"metric:cpu_throttled_ratio", "metric:cpu_usage", "metric:latency_p99"} <= set(
        h.evidence_refs
    )
    [action] = h.suggested_actions
    assert action.type is ActionType.RAISE_RESOURCE_LIMIT
    assert str(action.target) == "deployment/edge/api-gateway"
    assert action.parameters == {
        "resource": "cpu",
        "container": "api-gateway",
        "from": "500m",
        "to": "1",
    }


def test_traffic_surge_scales_out() -> None:
    ev = evidence(metrics=_saturated(load_to=5000), pods=_pods(), deployments=[_gateway()])
    h = PATTERN.evaluate(context(_alert("HighLatency"), ev)).hypothesis
    assert h is not None and h.confidence >= 0.9
    assert "traffic grew" in h.cause
    [action] = h.suggested_actions
    assert action.type is ActionType.SCALE
    assert action.parameters == {"replicas": 8, "from_replicas": 4}


def test_latency_without_cpu_pressure_is_ruled_out() -> None:
    """Near miss: latency rose, but CPU is far from the limit and not throttled."""
    metrics = [
        series("cpu_throttled_ratio", 0.02, unit="ratio"),
        series("cpu_usage", 0.6, unit="cores"),
        series("latency_p99", 0.12, to=0.9, unit="seconds"),
    ]
    ev = evidence(metrics=metrics, pods=_pods(), deployments=[_gateway()])
    verdict = PATTERN.evaluate(context(_alert("HighLatency"), ev))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.1
    assert "neither throttled nor at its limit" in verdict.ruled_out.reason


def test_a_blip_that_is_over_is_ruled_out() -> None:
    """Near miss: throttling spiked ten minutes ago and is back to normal."""
    metrics = [
        series("cpu_throttled_ratio", 0.02, to=0.5, since=12, until=7, unit="ratio"),
        series("cpu_usage", 0.9, to=1.95, since=12, until=7, unit="cores"),
    ]
    ev = evidence(metrics=metrics, pods=_pods(), deployments=[_gateway()])
    verdict = PATTERN.evaluate(context(_alert(), ev))
    assert verdict.hypothesis is None


def test_own_recent_rollout_lowers_confidence() -> None:
    steady = evidence(metrics=_saturated(), pods=_pods(), deployments=[_gateway()])
    rolled = evidence(metrics=_saturated(), pods=_pods(), deployments=[_gateway(20)])
    before = PATTERN.evaluate(context(_alert(), steady)).hypothesis
    after = PATTERN.evaluate(context(_alert(), rolled)).hypothesis
    assert before is not None and after is not None
    assert after.confidence < before.confidence - 0.05
    assert any("rolled out recently" in s for s in after.signals)


def test_cpu_quantities() -> None:
    assert parse_cpu("500m") == 0.5
    assert parse_cpu("2") == 2.0
    assert parse_cpu("lots") is None
    assert format_cpu(0.25) == "250m"
    assert format_cpu(1.5) == "1500m"
    assert format_cpu(2.0) == "2"


async def test_bundles() -> None:
    limit = PATTERN.evaluate(await bundle_context("cpu-throttling-limit-api-gateway")).hypothesis
    assert limit is not None and limit.confidence >= 0.9
    assert [a.type for a in limit.suggested_actions] == [ActionType.RAISE_RESOURCE_LIMIT]
    surge = PATTERN.evaluate(await bundle_context("cpu-saturation-traffic-recommendations"))
    assert surge.hypothesis is not None
    assert [a.type for a in surge.hypothesis.suggested_actions] == [ActionType.SCALE]
    blip = PATTERN.evaluate(await bundle_context("noise-cpu-blip-resolved-thumbnailer"))
    assert blip.hypothesis is None
