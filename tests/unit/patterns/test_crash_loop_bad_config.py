"""crash_loop_bad_config: startup fails on configuration; rollback when a rollout changed it."""

from __future__ import annotations

from firstline.domain.evidence import ContainerSpec, Deployment, PodState, Revision
from firstline.patterns.library.crash_loop_bad_config import PATTERN

from .builders_a import (
    action_types,
    alert,
    at,
    bundle_verdict,
    deployments,
    evaluate,
    evidence,
    hypothesis,
    logs,
    pod,
    pods,
    ruled_out,
    ruled_out_or_weak,
    targets,
)

_FATAL = 'level=fatal msg="invalid configuration" error="PORT: strconv.Atoi: parsing \\"eighty\\""'


def _rolled(env_before: str, env_after: str, minutes_ago: float = -12) -> Deployment:
    def rev(n: int, when: float, port: str) -> Revision:
        return Revision(
            revision=n,
            created_at=at(when),
            containers=[ContainerSpec(name="cart", image="shop/cart:2.0.0", env={"PORT": port})],
        )

    return Deployment(
        name="cart",
        namespace="shop",
        replicas=2,
        revisions=[rev(3, -9000, env_before), rev(4, minutes_ago, env_after)],
    )


def _looping(n: int = 2, exit_code: int = 1, reason: str = "Error") -> list[PodState]:
    return [
        pod(
            f"cart-new-{i}",
            "cart",
            ready=False,
            restart_count=5,
            waiting_reason="CrashLoopBackOff",
            last_termination_reason=reason,
            last_exit_code=exit_code,
        )
        for i in range(n)
    ]


def test_bundle_env_change_rolls_back_to_previous_revision() -> None:
    _, _, verdict = bundle_verdict("crash-loop-bad-config-shipping-quotes", PATTERN.id)
    h = hypothesis(verdict)
    assert h.pattern == "crash_loop_bad_config"
    assert 0.8 <= h.confidence <= 0.95
    assert action_types(h) == ["rollback"]
    assert targets(h) == ["deployment/fulfilment/shipping-quotes"]
    assert h.suggested_actions[0].parameters == {"to_revision": 11}
    assert {"pods", "logs", "deployments"} <= set(h.evidence_refs)


def test_bundle_missing_secret_via_deployment_label() -> None:
    _, _, verdict = bundle_verdict("crash-loop-missing-secret-notifications", PATTERN.id)
    h = hypothesis(verdict)
    assert 0.8 <= h.confidence <= 0.95
    assert targets(h) == ["deployment/comms/notifications"]
    assert "events" in h.evidence_refs


def test_bundle_configmap_edit_without_rollout_goes_to_a_person() -> None:
    _, _, verdict = bundle_verdict("crash-loop-configmap-edit-price-engine", PATTERN.id)
    h = hypothesis(verdict)
    assert 0.6 <= h.confidence <= 0.8
    assert action_types(h) == ["manual_only"]
    assert h.suggested_actions[0].steps


def test_built_config_crash_after_env_change() -> None:
    ev = evidence(
        pods(*_looping(), pod("cart-old-1", "cart")),
        logs((-8, _FATAL, {"app": "cart"}), repeat=3),
        deployments(_rolled("8080", "eighty")),
    )
    h = hypothesis(evaluate(PATTERN, alert("KubePodCrashLooping"), ev))
    assert 0.8 <= h.confidence <= 0.95
    assert action_types(h) == ["rollback"]


def test_oom_killed_crash_loop_is_ruled_out() -> None:
    ev = evidence(
        pods(*_looping(exit_code=137, reason="OOMKilled")),
        deployments(_rolled("8080", "8080")),
    )
    out = ruled_out(evaluate(PATTERN, alert("KubePodCrashLooping"), ev))
    assert "OOMKilled" in out.reason
    assert out.confidence < 0.05


def test_crash_loop_without_config_evidence_stays_below_threshold() -> None:
    ev = evidence(
        pods(*_looping()),
        logs((-8, "panic: runtime error: index out of range [3] with length 3", {"app": "cart"})),
    )
    assert ruled_out_or_weak(evaluate(PATTERN, alert("KubePodCrashLooping"), ev))
