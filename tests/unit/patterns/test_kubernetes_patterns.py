"""probe_failure, resource_quota_exceeded, rollout_stuck and job_failure: evidence in the
shapes the Kubernetes API produces (kubelet, scheduler, controller and admission messages,
container statuses), scored alone and ranked against every other pattern."""

from __future__ import annotations

from datetime import timedelta

from firstline.domain.action import ActionType
from firstline.domain.alert import Alert, Severity
from firstline.domain.evidence import (
    Condition,
    ContainerSpec,
    Deployment,
    EvidenceSet,
    KubeEvent,
    PodState,
    Revision,
)
from firstline.domain.hypothesis import Analysis, RootCauseHypothesis
from firstline.patterns.base import PatternContext, PatternVerdict
from firstline.patterns.registry import PatternRegistry
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.rules import PatternReasoner, build_context

from .builders_b import NOW, ago, evidence, log, logs, make_alert, node, pod, series

REGISTRY = PatternRegistry.load()
KSM = "kube-state-metrics"


def _event(
    reason: str,
    message: str,
    obj: str,
    *,
    count: int = 1,
    kind: str = "Warning",
    minutes: float = 1,
) -> KubeEvent:
    return KubeEvent(
        type=kind,
        reason=reason,
        message=message,
        object=obj,
        count=count,
        last_seen=ago(minutes),
        first_seen=ago(minutes + 20),
    )


def _request(alert: Alert, ev: EvidenceSet) -> ReasoningInput:
    return ReasoningInput(alert=alert, severity=Severity.MEDIUM, evidence=ev)


def _context(alert: Alert, ev: EvidenceSet) -> PatternContext:
    return build_context(_request(alert, ev), REGISTRY)


def _verdict(pattern_id: str, alert: Alert, ev: EvidenceSet) -> PatternVerdict:
    pattern = REGISTRY.get(pattern_id)
    assert pattern is not None
    return pattern.evaluate(_context(alert, ev))


def _confidence(verdict: PatternVerdict) -> float:
    if verdict.hypothesis is not None:
        return verdict.hypothesis.confidence
    assert verdict.ruled_out is not None
    return verdict.ruled_out.confidence


async def _rank(alert: Alert, ev: EvidenceSet) -> Analysis:
    return await PatternReasoner(REGISTRY).analyze(_request(alert, ev))


def _top(analysis: Analysis) -> RootCauseHypothesis:
    assert analysis.hypotheses
    return analysis.hypotheses[0]


def _scored(analysis: Analysis, pattern_id: str) -> float:
    for h in analysis.hypotheses:
        if h.pattern == pattern_id:
            return h.confidence
    return next(r.confidence for r in analysis.ruled_out if r.pattern == pattern_id)


def _assert_guess(pattern_id: str, alert: Alert, *, shown: bool = True) -> None:
    """With no evidence at all, the pattern is judged on the alert alone: a guess at most,
    shown (never decided on) when the alert suggests it strongly, ruled out when the alert
    only makes it possible."""
    verdict = _verdict(pattern_id, alert, evidence())
    assert _confidence(verdict) < 0.6
    if shown:
        assert verdict.hypothesis is not None
        assert verdict.hypothesis.basis == "alert"
        assert verdict.hypothesis.verified is False
        assert any("none of the evidence" in s for s in verdict.hypothesis.signals)
    else:
        assert verdict.hypothesis is None and verdict.ruled_out is not None
        assert "none of the evidence" in verdict.ruled_out.reason


# --- probe_failure --------------------------------------------------------------------------

LIVENESS_TIMEOUT = (
    'Liveness probe failed: Get "http://10.42.3.17:8080/healthz": context deadline exceeded '
    "(Client.Timeout exceeded while awaiting headers)"
)
READINESS_TIMEOUT = (
    'Readiness probe failed: Get "http://10.42.3.17:8080/ready": context deadline exceeded '
    "(Client.Timeout exceeded while awaiting headers)"
)
API_PODS = ("api-7d9f8c6b5-x2k9p", "api-7d9f8c6b5-q7m4t", "api-7d9f8c6b5-z8wq2")


def _api_pods(**last: object) -> list[PodState]:
    killed = {"last_termination_reason": "Error", "last_exit_code": 137, **last}
    # a container that honours SIGTERM within the grace period exits 143
    graceful = {**killed, "last_exit_code": last.get("last_exit_code", 143)}
    return [
        pod(
            API_PODS[0],
            "api",
            owner_kind="Deployment",
            container="api",
            restart_count=7,
            ready=False,
            waiting_reason="CrashLoopBackOff",
            waiting_message="back-off 2m40s restarting failed container=api "
            f"pod={API_PODS[0]}_shop(0b6e...)",
            last_termination_at=ago(3),
            namespace="shop",
            **killed,
        ),
        pod(
            API_PODS[1],
            "api",
            owner_kind="Deployment",
            container="api",
            restart_count=5,
            ready=False,
            last_termination_at=ago(6),
            namespace="shop",
            **graceful,
        ),
        pod(API_PODS[2], "api", owner_kind="Deployment", container="api", restart_count=0),
        pod("cart-5b6c7d8e9-fx2qp", "cart", owner_kind="Deployment"),
    ]


def _probe_events() -> list[KubeEvent]:
    return [
        _event("Unhealthy", LIVENESS_TIMEOUT, f"pod/{API_PODS[0]}", count=21),
        _event("Unhealthy", LIVENESS_TIMEOUT, f"pod/{API_PODS[1]}", count=15),
        _event("Unhealthy", READINESS_TIMEOUT, f"pod/{API_PODS[1]}", count=30),
        _event(
            "Killing",
            "Container api failed liveness probe, will be restarted",
            f"pod/{API_PODS[0]}",
            count=7,
            kind="Normal",
        ),
        _event(
            "Pulled",
            'Container image "registry.example.com/shop/cart:2.3.1" already present on machine',
            "pod/cart-5b6c7d8e9-fx2qp",
            kind="Normal",
            minutes=120,
        ),
    ]


def _crashing_alert() -> Alert:
    return make_alert(
        "KubePodCrashLooping",
        namespace="shop",
        pod=API_PODS[0],
        container="api",
        job=KSM,
        severity="warning",
    )


async def test_liveness_probe_killing_slow_pods_is_the_top_hypothesis() -> None:
    ev = evidence(
        pods=_api_pods(),
        events=_probe_events(),
        metrics=[series("latency_p99", 0.25, to=2.4, since=20, unit="seconds")],
        log_entries=logs(
            '{"level":"warn","msg":"slow request","path":"/v1/orders","duration_ms":4200}',
            count=12,
            pod=API_PODS[1],
            app="api",
        ),
    )
    analysis = await _rank(_crashing_alert(), ev)
    top = _top(analysis)
    assert top.pattern == "probe_failure"
    assert top.confidence >= 0.85
    assert top.verified and top.basis == "evidence"
    assert "api" in top.cause and "times out" in top.cause
    assert top.confirm
    [action] = top.suggested_actions
    assert action.type is ActionType.MANUAL_ONLY
    assert str(action.target) == "deployment/shop/api"
    assert any("timeoutSeconds" in step for step in action.steps)
    assert _scored(analysis, "oom_kill_loop") < 0.3
    assert _scored(analysis, "crash_loop_bad_config") < 0.5


async def test_oom_kills_are_not_a_probe_failure() -> None:
    """Near miss: the liveness probe fails too, but the containers are OOMKilled."""
    ev = evidence(
        pods=_api_pods(last_termination_reason="OOMKilled", last_exit_code=137),
        events=_probe_events(),
    )
    analysis = await _rank(_crashing_alert(), ev)
    assert _top(analysis).pattern == "oom_kill_loop"
    assert _scored(analysis, "probe_failure") < 0.4


def test_an_application_crash_is_not_a_probe_failure() -> None:
    """Near miss: the process exits 1 on its own; the probe is refused because it is gone."""
    ev = evidence(
        pods=_api_pods(last_exit_code=1),
        events=[
            _event(
                "Unhealthy",
                'Liveness probe failed: Get "http://10.42.3.17:8080/healthz": dial tcp '
                "10.42.3.17:8080: connect: connection refused",
                f"pod/{API_PODS[0]}",
                count=4,
            )
        ],
        log_entries=[
            log("panic: runtime error: invalid memory address or nil pointer dereference", 3),
            log("goroutine 1 [running]:", 3),
        ],
    )
    assert _confidence(_verdict("probe_failure", _crashing_alert(), ev)) < 0.35


def test_a_health_check_on_a_dead_database_is_a_dependency_outage() -> None:
    """Near miss: the probes fail with 503 because /healthz checks a database that is down."""
    pods = [
        pod(name, "api", owner_kind="Deployment", container="api", ready=False) for name in API_PODS
    ]
    ev = evidence(
        pods=pods,
        events=[
            _event(
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                f"pod/{name}",
                count=40,
            )
            for name in API_PODS
        ],
        log_entries=logs(
            'level=error msg="health check failed" check=postgres err="dial tcp '
            '10.0.5.12:5432: connect: connection refused"',
            count=20,
            pod=API_PODS[0],
            app="api",
        ),
    )
    alert = make_alert("KubePodNotReady", namespace="shop", pod=API_PODS[0], job=KSM)
    assert _confidence(_verdict("probe_failure", alert, ev)) < 0.3


def test_probe_failure_without_evidence_is_a_guess() -> None:
    # the catalog makes probe_failure only "possible" for KubePodNotReady
    alert = make_alert("KubePodNotReady", namespace="shop", pod=API_PODS[0])
    _assert_guess("probe_failure", alert, shown=False)


# --- resource_quota_exceeded ----------------------------------------------------------------

QUOTA_REFUSAL = (
    'Error creating: pods "checkout-6c9f7d8b4-" is forbidden: exceeded quota: compute-quota, '
    "requested: limits.memory=2Gi, used: limits.memory=9Gi, limited: limits.memory=10Gi"
)


def _checkout(ready: int = 2, conditions: list[Condition] | None = None) -> Deployment:
    return Deployment(
        name="checkout",
        namespace="shop",
        replicas=4,
        ready_replicas=ready,
        updated_replicas=ready,
        unavailable_replicas=4 - ready,
        conditions=conditions
        if conditions is not None
        else [
            Condition(type="Available", status="False", reason="MinimumReplicasUnavailable"),
            Condition(
                type="ReplicaFailure", status="True", reason="FailedCreate", message=QUOTA_REFUSAL
            ),
            Condition(
                type="Progressing",
                status="True",
                reason="ReplicaSetUpdated",
                message='ReplicaSet "checkout-6c9f7d8b4" is progressing.',
            ),
        ],
        revisions=[
            Revision(
                revision=12,
                created_at=NOW - timedelta(days=3),
                containers=[
                    ContainerSpec(name="checkout", image="registry.example.com/shop/checkout:4.1.0")
                ],
            )
        ],
    )


def _checkout_pods() -> list[PodState]:
    return [
        pod(f"checkout-6c9f7d8b4-{s}", "checkout", owner_kind="Deployment", node=f"n{i}")
        for i, s in enumerate(("h2k9p", "r7m4t"))
    ]


def _replicas_alert() -> Alert:
    return make_alert(
        "KubeDeploymentReplicasMismatch", namespace="shop", deployment="checkout", job=KSM
    )


async def test_quota_refusal_names_the_quota_and_the_resource() -> None:
    ev = evidence(
        pods=_checkout_pods(),
        deployments=[_checkout()],
        events=[
            _event("FailedCreate", QUOTA_REFUSAL, "replicaset/checkout-6c9f7d8b4", count=17),
            _event(
                "ScalingReplicaSet",
                "Scaled up replica set checkout-6c9f7d8b4 to 4 from 2",
                "deployment/checkout",
                kind="Normal",
                minutes=25,
            ),
        ],
        nodes=[node("n0"), node("n1")],
    )
    analysis = await _rank(_replicas_alert(), ev)
    top = _top(analysis)
    assert top.pattern == "resource_quota_exceeded"
    assert top.confidence >= 0.85
    assert "compute-quota" in top.cause and "limits.memory" in top.cause
    assert "9Gi" in top.cause and "10Gi" in top.cause
    [action] = top.suggested_actions
    assert action.type is ActionType.MANUAL_ONLY
    assert any("describe resourcequota compute-quota" in step for step in action.steps)
    assert _scored(analysis, "pod_pending_resources") < 0.3


def test_limit_range_refusal_is_recognised() -> None:
    message = (
        'Error creating: pods "checkout-6c9f7d8b4-8vx2l" is forbidden: maximum memory usage '
        "per Container is 1Gi, but limit is 2Gi"
    )
    ev = evidence(
        pods=_checkout_pods(),
        deployments=[_checkout(conditions=[])],
        events=[_event("FailedCreate", message, "replicaset/checkout-6c9f7d8b4", count=9)],
    )
    h = _verdict("resource_quota_exceeded", _replicas_alert(), ev).hypothesis
    assert h is not None and h.confidence >= 0.7
    assert "LimitRange" in h.cause and "1Gi" in h.cause


async def test_insufficient_node_capacity_is_not_a_quota() -> None:
    """Near miss: the pods exist and stay Pending because no node has the CPU."""
    pending = [
        pod(f"checkout-6c9f7d8b4-{s}", "checkout", phase="Pending", ready=False)
        for s in ("p2x7d", "p9q4w")
    ]
    insufficient = (
        "0/5 nodes are available: 5 Insufficient cpu. preemption: 0/5 nodes are available: "
        "5 No preemption victims found for incoming pod."
    )
    ev = evidence(
        pods=_checkout_pods() + pending,
        deployments=[_checkout(conditions=[])],
        events=[
            _event("FailedScheduling", insufficient, f"pod/{p.name}", count=8) for p in pending
        ],
    )
    analysis = await _rank(_replicas_alert(), ev)
    assert _top(analysis).pattern == "pod_pending_resources"
    assert _scored(analysis, "resource_quota_exceeded") < 0.1


def test_quota_refusing_another_workload_is_not_this_ones() -> None:
    """Scope: the quota refuses a neighbour's pods; checkout is merely short of replicas."""
    other = QUOTA_REFUSAL.replace("checkout-6c9f7d8b4", "reports-5d8f7b9c4")
    ev = evidence(
        pods=_checkout_pods(),
        deployments=[_checkout(conditions=[])],
        events=[_event("FailedCreate", other, "replicaset/reports-5d8f7b9c4", count=5)],
    )
    assert _confidence(_verdict("resource_quota_exceeded", _replicas_alert(), ev)) < 0.2


def test_resource_quota_without_evidence_is_a_guess() -> None:
    _assert_guess(
        "resource_quota_exceeded",
        make_alert("KubeQuotaExceeded", namespace="shop", resourcequota="compute-quota", job=KSM),
    )


# --- rollout_stuck --------------------------------------------------------------------------

OLD_RS, NEW_RS = "payments-7c6d5b4f9", "payments-59f8c7d6b4"
STUCK = Condition(
    type="Progressing",
    status="False",
    reason="ProgressDeadlineExceeded",
    message=f'ReplicaSet "{NEW_RS}" has timed out progressing.',
)


def _payments(conditions: list[Condition], *, updated: int = 1, ready: int = 3) -> Deployment:
    return Deployment(
        name="payments",
        namespace="shop",
        replicas=3,
        ready_replicas=ready,
        updated_replicas=updated,
        unavailable_replicas=3 - ready if ready < 3 else 0,
        conditions=conditions,
        revisions=[
            Revision(
                revision=rev,
                created_at=ago(minutes),
                change_cause=f"release {tag}",
                containers=[
                    ContainerSpec(
                        name="payments", image=f"registry.example.com/shop/payments:{tag}"
                    )
                ],
            )
            for rev, minutes, tag in ((8, 60 * 24 * 6, "3.8.2"), (9, 25, "3.9.0"))
        ],
    )


def _payments_pods(**new: object) -> list[PodState]:
    old = [
        pod(f"{OLD_RS}-{s}", "payments", owner_kind="Deployment", node=f"n{i}")
        for i, s in enumerate(("a1b2c", "d3e4f", "g5h6i"))
    ]
    broken = {"ready": False, "restart_count": 0, "node": "n2", **new}
    return [*old, pod(f"{NEW_RS}-k8m2p", "payments", "shop", owner_kind="Deployment", **broken)]


def _rollout_events(extra: list[KubeEvent]) -> list[KubeEvent]:
    return [
        _event(
            "ScalingReplicaSet",
            f"Scaled up replica set {NEW_RS} to 1",
            "deployment/payments",
            kind="Normal",
            minutes=24,
        ),
        *extra,
    ]


def _rollout_alert() -> Alert:
    return make_alert(
        "KubeDeploymentRolloutStuck", namespace="shop", deployment="payments", job=KSM
    )


async def test_stuck_rollout_whose_new_pods_never_get_ready_is_rolled_back() -> None:
    readiness = (
        'Readiness probe failed: Get "http://10.42.1.9:8080/ready": dial tcp 10.42.1.9:8080: '
        "connect: connection refused"
    )
    ev = evidence(
        deployments=[_payments([STUCK])],
        pods=_payments_pods(
            restart_count=6,
            waiting_reason="CrashLoopBackOff",
            last_termination_reason="Error",
            last_exit_code=2,
        ),
        events=_rollout_events(
            [
                _event("Unhealthy", readiness, f"pod/{NEW_RS}-k8m2p", count=12),
                _event(
                    "BackOff",
                    "Back-off restarting failed container payments in pod "
                    f"{NEW_RS}-k8m2p_shop(5c1d...)",
                    f"pod/{NEW_RS}-k8m2p",
                    count=20,
                ),
            ]
        ),
        log_entries=[log('{"level":"info","msg":"payment authorised"}', 2, app="payments")],
    )
    analysis = await _rank(_rollout_alert(), ev)
    top = _top(analysis)
    assert top.pattern == "rollout_stuck", [(h.pattern, h.confidence) for h in analysis.hypotheses]
    assert top.confidence >= 0.75
    assert "payments" in top.cause and "revision 9" in top.cause
    [action] = top.suggested_actions
    assert action.type is ActionType.ROLLBACK
    assert action.requires_approval
    assert action.parameters == {"to_revision": 8}


async def test_image_pull_blocking_a_rollout_ranks_image_pull_first() -> None:
    pull = (
        'Failed to pull image "registry.example.com/shop/payments:3.9.0": rpc error: code = '
        "NotFound desc = failed to pull and unpack image "
        '"registry.example.com/shop/payments:3.9.0": not found: manifest unknown'
    )
    ev = evidence(
        deployments=[_payments([STUCK])],
        pods=_payments_pods(
            phase="Pending",
            waiting_reason="ImagePullBackOff",
            waiting_message='Back-off pulling image "registry.example.com/shop/payments:3.9.0"',
        ),
        events=_rollout_events([_event("Failed", pull, f"pod/{NEW_RS}-k8m2p", count=6)]),
    )
    analysis = await _rank(_rollout_alert(), ev)
    assert _top(analysis).pattern == "image_pull_failure"
    stuck = next(h for h in analysis.hypotheses if h.pattern == "rollout_stuck")
    assert stuck.confidence < _top(analysis).confidence
    assert "image_pull_failure" in stuck.cause


async def test_capacity_blocking_a_rollout_ranks_pod_pending_first() -> None:
    insufficient = "0/4 nodes are available: 4 Insufficient memory."
    ev = evidence(
        deployments=[_payments([STUCK])],
        pods=_payments_pods(phase="Pending", node=None),
        events=_rollout_events(
            [_event("FailedScheduling", insufficient, f"pod/{NEW_RS}-k8m2p", count=9)]
        ),
    )
    analysis = await _rank(_rollout_alert(), ev)
    assert _top(analysis).pattern == "pod_pending_resources"
    assert _scored(analysis, "rollout_stuck") < 0.6


def test_completed_rollout_is_not_stuck() -> None:
    done = Condition(
        type="Progressing",
        status="True",
        reason="NewReplicaSetAvailable",
        message=f'ReplicaSet "{NEW_RS}" has successfully progressed.',
    )
    pods = [
        pod(f"{NEW_RS}-{s}", "payments", owner_kind="Deployment")
        for s in ("k8m2p", "w3n7q", "z9r5t")
    ]
    ev = evidence(
        deployments=[_payments([done], updated=3, ready=3)],
        pods=pods,
        events=_rollout_events([]),
    )
    verdict = _verdict("rollout_stuck", _rollout_alert(), ev)
    assert _confidence(verdict) < 0.05


def test_rollout_stuck_without_evidence_is_a_guess() -> None:
    _assert_guess("rollout_stuck", _rollout_alert())


# --- job_failure ----------------------------------------------------------------------------

JOB = "nightly-export-29012040"


def _job_pods(**failed: object) -> list[PodState]:
    attempt = {
        "phase": "Failed",
        "ready": False,
        "owner_kind": "Job",
        "container": "export",
        "labels": {"job-name": JOB, "batch.kubernetes.io/job-name": JOB},
        "last_termination_reason": "Error",
        "last_exit_code": 1,
        **failed,
    }
    return [
        pod(f"{JOB}-{s}", JOB, namespace="batch", **attempt) for s in ("7xk2p", "m4q8z", "t9v3w")
    ]


def _job_events() -> list[KubeEvent]:
    return [
        _event(
            "SuccessfulCreate", f"Created pod: {JOB}-7xk2p", f"job/{JOB}", kind="Normal", minutes=30
        ),
        _event(
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
            f"job/{JOB}",
            minutes=2,
        ),
    ]


def _job_alert() -> Alert:
    return make_alert("KubeJobFailed", namespace="batch", job_name=JOB, job=KSM, severity="warning")


def _broken_neighbour() -> tuple[list[PodState], list[KubeEvent]]:
    """A Deployment in the same namespace that crash-loops on a missing Secret."""
    pods = [
        pod(
            "report-api-6b7c8d9f5-qx2lm",
            "report-api",
            namespace="batch",
            owner_kind="Deployment",
            ready=False,
            restart_count=9,
            waiting_reason="CrashLoopBackOff",
            last_termination_reason="Error",
            last_exit_code=1,
        )
    ]
    events = [
        _event(
            "BackOff",
            "Back-off restarting failed container api in pod report-api-6b7c8d9f5-qx2lm",
            "pod/report-api-6b7c8d9f5-qx2lm",
            count=40,
        )
    ]
    return pods, events


async def test_failed_job_names_the_exit_code_and_what_its_logs_say() -> None:
    neighbour_pods, neighbour_events = _broken_neighbour()
    ev = evidence(
        pods=_job_pods() + neighbour_pods,
        events=_job_events() + neighbour_events,
        log_entries=logs(
            'psql: error: connection to server at "warehouse-db.batch.svc" (10.0.7.4), port '
            '5432 failed: FATAL:  password authentication failed for user "export"',
            count=2,
            pod=f"{JOB}-7xk2p",
            container="export",
        )
        + logs(
            "Error: open /etc/export/config.yaml: no such file or directory",
            count=3,
            pod=f"{JOB}-m4q8z",
            container="export",
        ),
    )
    analysis = await _rank(_job_alert(), ev)
    top = _top(analysis)
    assert top.pattern == "job_failure"
    assert top.confidence >= 0.85
    assert JOB in top.cause and "BackoffLimitExceeded" in top.cause
    assert "code 1" in top.cause and "does not exist" in top.cause
    [action] = top.suggested_actions
    assert action.type is ActionType.MANUAL_ONLY
    assert str(action.target) == f"job/batch/{JOB}"
    assert any("--from=cronjob/nightly-export" in step for step in action.steps)
    assert not any("report-api" in step for step in action.steps)


async def test_an_unrelated_broken_deployment_does_not_make_a_job_failure() -> None:
    """Near miss: KubeJobFailed fired, the Job's own pods completed; only a neighbour fails."""
    neighbour_pods, neighbour_events = _broken_neighbour()
    done = [
        pod(
            f"{JOB}-7xk2p",
            JOB,
            namespace="batch",
            phase="Succeeded",
            ready=False,
            owner_kind="Job",
            labels={"job-name": JOB},
            last_termination_reason="Completed",
            last_exit_code=0,
        )
    ]
    ev = evidence(pods=done + neighbour_pods, events=neighbour_events)
    verdict = _verdict("job_failure", _job_alert(), ev)
    assert _confidence(verdict) < 0.2
    analysis = await _rank(_job_alert(), ev)
    assert all(h.confidence < 0.6 for h in analysis.hypotheses if h.pattern == "job_failure")


def test_oom_killed_job_pods_say_so() -> None:
    ev = evidence(
        pods=_job_pods(last_termination_reason="OOMKilled", last_exit_code=137),
        events=_job_events(),
    )
    h = _verdict("job_failure", _job_alert(), ev).hypothesis
    assert h is not None and h.confidence >= 0.85
    assert "OOMKilled" in h.cause


def test_job_failure_without_evidence_is_a_guess() -> None:
    _assert_guess("job_failure", _job_alert())


# --- the signals these patterns read ----------------------------------------------------------


def test_a_failed_startup_probe_kill_is_a_startup_probe() -> None:
    from firstline.signals.kubernetes import event_signals

    [signal] = event_signals(
        [
            _event(
                "Killing",
                "Container api failed startup probe, will be restarted",
                f"pod/{API_PODS[0]}",
                kind="Normal",
            )
        ]
    )
    assert signal.family == "probe_failed"
    assert signal.attributes["probe"] == "startup"
    assert signal.attributes["restarts_container"] == "yes"


def test_a_quota_signal_keeps_the_whole_admission_message() -> None:
    from firstline.signals.kubernetes import event_signals

    long = QUOTA_REFUSAL.replace(
        "limits.memory=2Gi", "limits.cpu=2,limits.memory=2Gi,requests.cpu=1,requests.memory=1Gi"
    )
    [signal] = event_signals([_event("FailedCreate", long, "replicaset/checkout-6c9f7d8b4")])
    assert signal.family == "quota_exceeded"
    assert signal.attributes["quota"] == "compute-quota"
    assert signal.attributes["message"] == long


def test_stuck_rollout_without_a_previous_revision_gets_manual_steps() -> None:
    first = _payments([STUCK])
    only = first.model_copy(update={"revisions": first.revisions[-1:]})
    ev = evidence(
        deployments=[only],
        pods=_payments_pods(restart_count=4, waiting_reason="CrashLoopBackOff", last_exit_code=1),
        events=_rollout_events([]),
    )
    h = _verdict("rollout_stuck", _rollout_alert(), ev).hypothesis
    assert h is not None and h.confidence >= 0.6
    [action] = h.suggested_actions
    assert action.type is ActionType.MANUAL_ONLY
    assert any("rollout undo" in step for step in action.steps)


def test_readiness_timeouts_of_a_cpu_throttled_container_are_cpu_not_probes() -> None:
    """Near miss: a few readiness timeouts while the container is throttled at its limit."""
    pods = [pod(name, "api", owner_kind="Deployment", container="api") for name in API_PODS]
    ev = evidence(
        pods=pods,
        events=[_event("Unhealthy", READINESS_TIMEOUT, f"pod/{API_PODS[1]}", count=4)],
        metrics=[
            series("cpu_throttled_ratio", 0.05, to=0.6, since=20, unit="ratio"),
            series("latency_p99", 0.25, to=1.8, since=20, unit="seconds"),
        ],
    )
    alert = make_alert("HighLatency", namespace="shop", service="api")
    assert _confidence(_verdict("probe_failure", alert, ev)) < 0.2


async def test_a_stuck_rollout_whose_new_pods_reject_their_config_is_a_config_crash() -> None:
    ev = evidence(
        deployments=[_payments([STUCK])],
        pods=_payments_pods(
            restart_count=5,
            waiting_reason="CrashLoopBackOff",
            last_termination_reason="Error",
            last_exit_code=1,
        ),
        events=_rollout_events([]),
        log_entries=logs(
            'level=fatal msg="invalid configuration" err="required environment variable '
            '\\"PSP_API_KEY\\" is not set"',
            count=5,
            pod=f"{NEW_RS}-k8m2p",
            app="payments",
        ),
    )
    analysis = await _rank(_rollout_alert(), ev)
    assert _top(analysis).pattern == "crash_loop_bad_config"
    stuck = next(h for h in analysis.hypotheses if h.pattern == "rollout_stuck")
    assert stuck.confidence < _top(analysis).confidence
    assert "crash_loop_bad_config" in stuck.cause


def test_a_namespace_quota_alert_names_the_refused_workload() -> None:
    ev = evidence(
        pods=_checkout_pods(),
        deployments=[_checkout()],
        events=[_event("FailedCreate", QUOTA_REFUSAL, "replicaset/checkout-6c9f7d8b4", count=6)],
    )
    alert = make_alert(
        "KubeQuotaExceeded",
        namespace="shop",
        resourcequota="compute-quota",
        resource="limits.memory",
        job=KSM,
    )
    h = _verdict("resource_quota_exceeded", alert, ev).hypothesis
    assert h is not None and h.confidence >= 0.85
    assert h.cause.startswith("checkout's new pods are refused by ResourceQuota compute-quota")
    [action] = h.suggested_actions
    assert str(action.target) == "deployment/shop/checkout"


def test_a_cronjob_alert_sees_the_failed_jobs_it_started() -> None:
    ev = evidence(pods=_job_pods(), events=_job_events())
    alert = make_alert("KubeCronJobFailed", namespace="batch", cronjob="nightly-export", job=KSM)
    h = _verdict("job_failure", alert, ev).hypothesis
    assert h is not None and h.confidence >= 0.6
    assert JOB in h.cause


def test_a_job_past_its_deadline_says_so() -> None:
    deadline = _event(
        "DeadlineExceeded", "Job was active longer than specified deadline", f"job/{JOB}"
    )
    ev = evidence(
        pods=_job_pods(last_termination_reason="Error", last_exit_code=143), events=[deadline]
    )
    h = _verdict("job_failure", _job_alert(), ev).hypothesis
    assert h is not None and h.confidence >= 0.85
    assert "DeadlineExceeded" in h.cause and "activeDeadlineSeconds" in h.cause


async def test_a_config_crash_caught_running_between_back_offs_is_still_a_crash_loop() -> None:
    """Found in the lab: a container with short back-offs is often running (not ready) at
    the moment the pods are read; its restarts and last error exit still say it loops."""
    ev = evidence(
        deployments=[_payments([STUCK])],
        pods=_payments_pods(restart_count=4, last_termination_reason="Error", last_exit_code=1),
        events=_rollout_events([]),
        log_entries=logs(
            'level=fatal msg="invalid configuration" err="PSP_TIMEOUT=abc is not a duration"',
            count=4, pod=f"{NEW_RS}-k8m2p", app="payments",
        ),
    )  # fmt: skip
    analysis = await _rank(_rollout_alert(), ev)
    assert _top(analysis).pattern == "crash_loop_bad_config"


def test_a_failed_probe_of_a_url_is_not_explained_by_another_workloads_pods() -> None:
    """Found in the lab: a blackbox probe names its endpoint (a URL), no workload; the whole
    namespace's pods were in scope, and report-worker's OOM kills 'explained' a failed probe
    of the payments gateway outside the cluster. An alert on report-worker still sees them."""
    killed = pod("report-worker-5d8f9c7b6-x2x9p", "report-worker", owner_kind="Deployment",
                 restart_count=5, last_termination_reason="OOMKilled", last_exit_code=137,
                 ready=False)  # fmt: skip
    ev = evidence(pods=[killed])
    probe = make_alert("BlackboxProbeFailed", namespace="shop", job="blackbox",
                       instance="http://payments.example:8080/healthz")  # fmt: skip
    assert _confidence(_verdict("oom_kill_loop", probe, ev)) < 0.2
    # and a database's alert (postgres_exporter names the database host as `instance`):
    # approved in the lab, this raised report-worker's memory for idle PostgreSQL sessions
    database = make_alert("PostgresqlTooManyIdleInTransactionConnections", namespace="shop",
                          service="postgres", instance="10.0.3.7:9187", job="postgres")  # fmt: skip
    assert _confidence(_verdict("oom_kill_loop", database, ev)) < 0.2
    own = make_alert("KubePodCrashLooping", namespace="shop", pod=killed.name,
                     container="report-worker", job=KSM)  # fmt: skip
    assert _confidence(_verdict("oom_kill_loop", own, ev)) >= 0.6
