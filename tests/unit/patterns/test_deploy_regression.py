"""deploy_regression: a rollout of the alerting service shortly before its errors/latency rose."""

from __future__ import annotations

from firstline.domain.evidence import ContainerSpec, Deployment, Revision
from firstline.patterns.library.deploy_regression import PATTERN, onset

from .builders_a import (
    action_types,
    alert,
    at,
    bundle_verdict,
    deployments,
    evaluate,
    evidence,
    hypothesis,
    pod,
    pods,
    ruled_out,
    series,
    targets,
)


def _deployment(name: str, deployed: float, old: str = "1.0.0", new: str = "1.1.0") -> Deployment:
    return Deployment(
        name=name,
        namespace="shop",
        replicas=3,
        revisions=[
            Revision(
                revision=4,
                created_at=at(-5 * 24 * 60),
                containers=[ContainerSpec(name=name, image=f"shop/{name}:{old}")],
            ),
            Revision(
                revision=5,
                created_at=at(deployed),
                containers=[ContainerSpec(name=name, image=f"shop/{name}:{new}")],
            ),
        ],
    )


def test_bundle_search_api_regression_proposes_rollback() -> None:
    _, _, verdict = bundle_verdict("deploy-regression-search-api", PATTERN.id)
    h = hypothesis(verdict)
    assert h.pattern == "deploy_regression"
    assert 0.8 <= h.confidence <= 0.95
    assert action_types(h) == ["rollback"]
    assert targets(h) == ["deployment/catalog/search-api"]
    assert h.suggested_actions[0].parameters == {"to_revision": 41}
    assert {"metric:error_rate", "deployments"} <= set(h.evidence_refs)


def test_bundle_journal_writer_both_metrics_after_rollout() -> None:
    _, _, verdict = bundle_verdict("deploy-regression-journal-writer-critical", PATTERN.id)
    h = hypothesis(verdict)
    assert 0.88 <= h.confidence <= 0.97
    assert h.affected_components == ["journal-writer"]
    assert "metric:latency_p99" in h.evidence_refs


def test_errors_after_own_rollout_fire() -> None:
    ev = evidence(
        series("error_rate", 0.004, to=0.08, change_at=-9, unit="ratio"),
        series("latency_p99", 0.2, unit="seconds"),
        deployments(_deployment("cart", deployed=-12)),
        pods(pod("cart-abc-1", "cart"), pod("cart-abc-2", "cart")),
    )
    h = hypothesis(evaluate(PATTERN, alert("HighErrorRate"), ev))
    assert 0.8 <= h.confidence <= 0.95
    assert action_types(h) == ["rollback"]


def test_rollout_after_the_errors_began_is_ruled_out() -> None:
    ev = evidence(
        series("error_rate", 0.004, to=0.08, change_at=-20, unit="ratio"),
        deployments(_deployment("cart", deployed=-8)),
    )
    out = ruled_out(evaluate(PATTERN, alert("HighErrorRate", started=-15), ev))
    assert out.confidence < 0.2
    assert "before the rollout" in out.reason


def test_rollout_of_an_unrelated_service_is_ruled_out() -> None:
    ev = evidence(
        series("error_rate", 0.004, to=0.08, change_at=-9, unit="ratio"),
        deployments(_deployment("cart", deployed=-3000), _deployment("catalog", deployed=-12)),
    )
    out = ruled_out(evaluate(PATTERN, alert("HighErrorRate"), ev))
    assert "unrelated" in out.reason and "catalog" in out.reason


def test_rollout_with_normal_metrics_is_ruled_out() -> None:
    ev = evidence(
        series("error_rate", 0.004, unit="ratio"),
        series("latency_p99", 0.2, unit="seconds"),
        deployments(_deployment("cart", deployed=-12)),
    )
    out = ruled_out(evaluate(PATTERN, alert("HighErrorRate"), ev))
    assert "normal" in out.reason


def test_regression_long_after_the_rollout_is_ruled_out() -> None:
    ev = evidence(
        series("error_rate", 0.004, to=0.08, change_at=-9, unit="ratio"),
        deployments(_deployment("cart", deployed=-100)),
    )
    out = ruled_out(evaluate(PATTERN, alert("HighErrorRate"), ev))
    assert "too long after the rollout" in out.reason


def test_config_crash_after_rollout_is_left_to_crash_loop_pattern() -> None:
    ev = evidence(
        series("error_rate", 0.004, to=0.08, change_at=-9, unit="ratio"),
        deployments(_deployment("cart", deployed=-12, new="1.0.0")),
        pods(pod("cart-new-1", "cart", ready=False, waiting_reason="CreateContainerConfigError")),
    )
    verdict = evaluate(PATTERN, alert("HighErrorRate"), ev)
    assert verdict.hypothesis is None or verdict.hypothesis.confidence < 0.6


def test_onset_ignores_flat_and_finds_step() -> None:
    flat = series("error_rate", 0.01).points
    step = series("error_rate", 0.01, to=0.2, change_at=-7).points
    assert onset(flat) is None
    assert onset(step) == at(-7)


def test_suspicion_fades_with_the_gap_after_the_rollout() -> None:
    from datetime import timedelta

    from firstline.patterns.library.deploy_regression import _lag_weight

    weights = [_lag_weight(timedelta(minutes=m)) for m in (1, 10, 20, 30, 40)]
    assert weights[0] == weights[1] == 3.5
    assert weights[1] > weights[2] > weights[3] == weights[4] == 1.5
