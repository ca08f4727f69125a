"""kubernetes_signals: one test per signal family, with pods, events, workloads and nodes in
the shapes the Kubernetes API produces them (kubelet, scheduler, controller and admission
messages, container statuses), and every fact marked in or out of the alerting workload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firstline.domain.alert import Alert, fingerprint_labels
from firstline.domain.evidence import (
    Condition,
    Deployment,
    EvidenceSet,
    KubeEvent,
    NodeCondition,
    NodeState,
    PodState,
)
from firstline.domain.signal import Signal
from firstline.signals.kubernetes import kubernetes_signals
from firstline.signals.scope import resolve_scope
from tests.unit.patterns import builders_a as b

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
NS = "shop"
WEB_POD = "web-6d4cf56db6-x2k9p"
BILLING_POD = "billing-7f9c8d6b5-q8w4z"
UID = "5f1c2a9e-3b7d-4c1a-9e8f-2d6b4a7c9e10"


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def _alert(name: str = "KubePodCrashLooping", **labels: str) -> Alert:
    merged = {"alertname": name, "namespace": NS, **labels}
    return Alert(
        source="test",
        name=name,
        labels=merged,
        starts_at=ago(5),
        fingerprint=fingerprint_labels(merged),
    )


WEB_ALERT = _alert(deployment="web", job="kube-state-metrics")


def _pod(name: str = WEB_POD, owner: str | None = "web", **fields: object) -> PodState:
    base: dict[str, object] = {
        "name": name,
        "namespace": NS,
        "owner": owner,
        "owner_kind": "Deployment",
        "node": "node-a",
        "container": "app",
        "labels": {"app": owner or "", "pod-template-hash": name.split("-")[-2]},
    }
    return PodState.model_validate({**base, **fields})


def _event(reason: str, message: str, obj: str, *, count: int = 1, minutes: float = 1) -> KubeEvent:
    return KubeEvent(
        type="Warning",
        reason=reason,
        message=message,
        object=obj,
        count=count,
        first_seen=ago(minutes + 20),
        last_seen=ago(minutes),
    )


def _evidence(
    pods: list[PodState] | None = None,
    events: list[KubeEvent] | None = None,
    workloads: list[Deployment] | None = None,
    nodes: list[NodeState] | None = None,
) -> EvidenceSet:
    """The kinds given, each as the item the Kubernetes source returns (ids pods, events...)."""
    items = [
        build(*given)
        for build, given in (
            (b.pods, pods), (b.events, events), (b.deployments, workloads), (b.nodes, nodes)
        )
        if given is not None
    ]  # fmt: skip
    return b.evidence(*items)


def _signals(ev: EvidenceSet, alert: Alert = WEB_ALERT) -> list[Signal]:
    return kubernetes_signals(ev, resolve_scope(alert, ev.pods()), NOW)


def _of(signals: list[Signal], family: str, subject: str | None = None) -> list[Signal]:
    return [s for s in signals if s.family == family and (subject is None or s.subject == subject)]


def _one(signals: list[Signal], family: str, subject: str | None = None) -> Signal:
    found = _of(signals, family, subject)
    assert len(found) == 1, (family, subject, [(s.family, s.subject) for s in signals])
    return found[0]


def _families(signals: list[Signal]) -> set[str]:
    return {s.family for s in signals}


# -- container terminations ------------------------------------------------------------------


def test_oom_killed_from_the_termination_reason() -> None:
    pod = _pod(
        restart_count=6,
        last_termination_reason="OOMKilled",
        last_exit_code=137,
        last_termination_at=ago(2),
    )
    signals = _signals(_evidence(pods=[pod]))
    oom = _one(signals, "oom_killed")
    assert oom.subject == f"pod/{WEB_POD}"
    assert WEB_POD in oom.summary and "OOMKilled" in oom.summary
    assert oom.attributes["exit_code"] == "137"
    assert oom.attributes["container"] == "app"
    assert oom.attributes["recent"] == "yes"
    assert oom.workload == "web"
    assert oom.count == 6
    assert oom.in_scope is True
    assert "sigkill" not in _families(signals)  # an OOM kill is not an unexplained SIGKILL


def test_oom_killed_from_the_kubelet_back_off_message_when_the_status_omits_it() -> None:
    pod = _pod(
        restart_count=6,
        waiting_reason="CrashLoopBackOff",
        waiting_message=(
            f"back-off 5m0s restarting failed container=app pod={WEB_POD}_{NS}({UID}) "
            "last terminated: reason=OOMKilled, exit_code=137"
        ),
    )
    signals = _signals(_evidence(pods=[pod]))
    oom = _one(signals, "oom_killed")
    assert WEB_POD in oom.summary
    assert oom.attributes["exit_code"] == "137"
    assert _one(signals, "crash_loop").attributes["restarts"] == "6"


def test_one_oom_signal_per_pod_when_exit_137_and_the_message_both_say_so() -> None:
    pod = _pod(
        restart_count=6,
        waiting_reason="CrashLoopBackOff",
        waiting_message=(
            f"back-off 5m0s restarting failed container=app pod={WEB_POD}_{NS}({UID}) "
            "last terminated: reason=OOMKilled, exit_code=137"
        ),
        last_termination_reason="Error",
        last_exit_code=137,
        last_termination_at=ago(2),
    )
    signals = _signals(_evidence(pods=[pod]))
    oom = _one(signals, "oom_killed")  # the same fact, cited once
    assert oom.attributes["exit_code"] == "137"
    assert "sigkill" not in _families(signals)


def test_sigkill_without_an_oom_record() -> None:
    pod = _pod(
        restart_count=2,
        last_termination_reason="Error",
        last_exit_code=137,
        last_termination_at=ago(3),
    )
    signals = _signals(_evidence(pods=[pod]))
    kill = _one(signals, "sigkill")
    assert WEB_POD in kill.summary
    assert kill.attributes["exit_code"] == "137"
    assert "oom_killed" not in _families(signals)
    assert "error_exit" not in _families(signals)  # 137 is a kill, not the app's own error


def test_start_failed_exit_128_with_the_runtime_message() -> None:
    message = (
        "failed to create containerd task: failed to create shim task: OCI runtime create "
        "failed: runc create failed: unable to start container process: exec: "
        '"/app/server": stat /app/server: no such file or directory: unknown'
    )
    pod = _pod(
        restart_count=4,
        last_termination_reason="StartError",
        last_exit_code=128,
        last_termination_message=message,
        last_termination_at=ago(1),
    )
    signals = _signals(_evidence(pods=[pod]))
    start = _one(signals, "start_failed")
    assert WEB_POD in start.summary
    assert start.attributes["exit_code"] == "128"
    assert start.attributes["reason"] == "StartError"
    assert "no such file or directory" in start.summary or 'exec: "' in start.summary
    assert start.attributes["detail"]
    # a process that never started did not exit with an error of its own
    assert "error_exit" not in _families(signals)


def test_error_exit_with_a_config_exit_code() -> None:
    pod = _pod(
        restart_count=1,
        last_termination_reason="Error",
        last_exit_code=1,
        last_termination_at=ago(2),
    )
    signals = _signals(_evidence(pods=[pod]))
    err = _one(signals, "error_exit")
    assert WEB_POD in err.summary and "exit 1" in err.summary
    assert err.attributes["exit_code"] == "1"
    assert err.attributes["config_code"] == "yes"
    assert err.attributes["recent"] == "yes"
    assert "restarts" not in _families(signals)  # one restart is not a restart storm

    sigterm = _pod(last_termination_reason="Error", last_exit_code=143, last_termination_at=ago(2))
    assert "error_exit" not in _families(_signals(_evidence(pods=[sigterm])))
    crash = _pod(last_termination_reason="Error", last_exit_code=139, last_termination_at=ago(2))
    assert _one(_signals(_evidence(pods=[crash])), "error_exit").attributes["config_code"] == "no"


def test_evicted_pod_and_kubelet_event() -> None:
    message = (
        "The node was low on resource: ephemeral-storage. Threshold quantity: 2Gi, "
        "available: 1536Mi. Container app was using 14Gi, request is 0, has larger "
        "consumption of ephemeral-storage. "
    )
    pod = _pod(
        phase="Failed",
        ready=False,
        last_termination_reason="Evicted",
        last_termination_message=message,
    )
    events = [_event("Evicted", message, f"pod/{WEB_POD}")]
    signals = _signals(_evidence(pods=[pod], events=events))
    assert len(_of(signals, "evicted", f"pod/{WEB_POD}")) == 2
    pod_signal = next(s for s in _of(signals, "evicted") if s.ref == "pods")
    event_signal = next(s for s in _of(signals, "evicted") if s.ref == "events")
    assert WEB_POD in pod_signal.summary and "ephemeral-storage" in pod_signal.summary
    assert WEB_POD in event_signal.summary and "ephemeral-storage" in event_signal.summary
    assert event_signal.attributes["reason"] == "Evicted"
    assert pod_signal.in_scope and event_signal.in_scope


# -- waiting containers ----------------------------------------------------------------------


def test_crash_loop_from_the_waiting_state() -> None:
    pod = _pod(
        ready=False,
        restart_count=7,
        waiting_reason="CrashLoopBackOff",
        waiting_message=f"back-off 5m0s restarting failed container=app pod={WEB_POD}_{NS}({UID})",
        last_termination_reason="Error",
        last_exit_code=1,
        last_termination_at=ago(1),
    )
    back_off = _event(
        "BackOff",
        f"Back-off restarting failed container app in pod {WEB_POD}_{NS}({UID})",
        f"pod/{WEB_POD}",
        count=31,
    )
    signals = _signals(_evidence(pods=[pod], events=[back_off]))
    loop = _one(signals, "crash_loop")
    assert WEB_POD in loop.summary and "CrashLoopBackOff" in loop.summary
    assert loop.attributes["restarts"] == "7"
    assert loop.in_scope is True
    restarts = _one(signals, "restarts")
    assert restarts.attributes["restarts"] == "7"
    # a restart back-off is not an image problem, nor an OOM kill
    assert "image_pull" not in _families(signals)
    assert "oom_killed" not in _families(signals)


def test_image_pull_from_the_waiting_state_and_the_kubelet_event() -> None:
    image = "registry.example.com/shop/web:1.4.3"
    message = (
        f'Failed to pull image "{image}": rpc error: code = Unknown desc = Error response '
        f"from daemon: manifest for {image} not found: manifest unknown: manifest unknown"
    )
    pod = _pod(ready=False, phase="Pending", waiting_reason="ErrImagePull", waiting_message=message)
    events = [
        _event("Failed", message, f"pod/{WEB_POD}", count=4),
        _event("BackOff", f'Back-off pulling image "{image}"', f"pod/{WEB_POD}", count=9),
    ]
    signals = _signals(_evidence(pods=[pod], events=events))
    from_pod = next(s for s in _of(signals, "image_pull") if s.ref == "pods")
    assert WEB_POD in from_pod.summary and "ErrImagePull" in from_pod.summary
    assert from_pod.attributes["reason"] == "ErrImagePull"
    assert "manifest unknown" in from_pod.attributes["message"]
    from_events = [s for s in _of(signals, "image_pull") if s.ref == "events"]
    assert {s.attributes["reason"] for s in from_events} == {"Failed", "BackOff"}
    assert all(WEB_POD in s.summary and s.in_scope for s in from_events)
    assert "crash_loop" not in _families(signals)


def test_image_pull_is_not_read_into_events_that_merely_mention_an_image() -> None:
    thumbs = "thumbs-6d4cf56db6-x2k9p"
    events = [
        # a container named "image-resizer" restarting is a crash loop, not a pull failure
        _event(
            "BackOff",
            f"Back-off restarting failed container image-resizer in pod {thumbs}_{NS}({UID})",
            f"pod/{thumbs}",
        ),
        # the kubelet's securityContext refusal names the image, but the image was pulled
        _event(
            "Failed",
            "Error: container has runAsNonRoot and image will run as root "
            f'(pod: "{thumbs}_{NS}({UID})", container: image-resizer)',
            f"pod/{thumbs}",
        ),
    ]
    signals = _signals(_evidence(events=events), _alert(deployment="thumbs"))
    assert "image_pull" not in _families(signals), [s.summary for s in signals]
    # while every message the kubelet writes about a pull still counts
    pulls = [
        ("Failed", 'Failed to pull image "web:1.4.3": rpc error: code = NotFound desc = not found'),
        ("Failed", "Error: ErrImagePull"),
        ("Failed", "Error: ImagePullBackOff"),
        ("Failed", "Error: InvalidImageName"),
        ("BackOff", 'Back-off pulling image "registry.example.com/shop/web:1.4.3"'),
        (
            "Failed",
            'Failed to apply default image tag "web:": couldn\'t parse image reference "web:": '
            "invalid reference format",
        ),
    ]
    found = _signals(_evidence(events=[_event(r, m, f"pod/{WEB_POD}") for r, m in pulls]))
    assert [s.family for s in found] == ["image_pull"] * len(pulls)


def test_config_error_names_the_missing_secret() -> None:
    pod = _pod(
        ready=False,
        phase="Pending",
        waiting_reason="CreateContainerConfigError",
        waiting_message='secret "db-creds" not found',
    )
    signals = _signals(_evidence(pods=[pod]))
    config = _one(signals, "config_error")
    assert WEB_POD in config.summary and 'secret "db-creds" not found' in config.summary
    assert config.attributes["reason"] == "CreateContainerConfigError"
    assert config.attributes["message"] == 'secret "db-creds" not found'


# -- scheduling ------------------------------------------------------------------------------


def test_unschedulable_from_the_scheduler_event() -> None:
    message = (
        "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: 0/5 nodes are available: "
        "3 No preemption victims found for incoming pod, 2 Preemption is not helpful for "
        "scheduling."
    )
    pending = _pod(ready=False, phase="Pending", node=None)
    events = [_event("FailedScheduling", message, f"pod/{WEB_POD}", count=12)]
    signals = _signals(_evidence(pods=[pending], events=events))
    sched = _one(signals, "unschedulable")
    assert WEB_POD in sched.summary and "Insufficient cpu" in sched.summary
    assert sched.attributes["insufficient_cpu"] == "yes"
    assert sched.attributes["taint"] == "yes"
    assert "insufficient_memory" not in sched.attributes
    assert "affinity" not in sched.attributes
    assert "volume" not in sched.attributes
    assert sched.count == 12
    assert sched.in_scope is True


def test_unschedulable_from_the_pod_scheduled_condition() -> None:
    memory = (
        "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod."
    )
    pending = _pod(
        ready=False,
        phase="Pending",
        node=None,
        conditions=[
            Condition(type="PodScheduled", status="False", reason="Unschedulable", message=memory)
        ],
    )
    sched = _one(_signals(_evidence(pods=[pending])), "unschedulable")
    assert WEB_POD in sched.summary
    assert sched.attributes["reason"] == "Unschedulable"
    # the scheduler ends the clause with a period: the resource is still "memory"
    assert sched.attributes.get("insufficient_memory") == "yes", sched.attributes
    assert "insufficient_cpu" not in sched.attributes

    volume = (
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )
    affinity = (
        "0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."
    )
    by_volume = _pod(
        ready=False,
        phase="Pending",
        node=None,
        conditions=[Condition(type="PodScheduled", status="False", message=volume)],
    )
    by_affinity = by_volume.model_copy(
        update={"conditions": [Condition(type="PodScheduled", status="False", message=affinity)]}
    )
    vol = _one(_signals(_evidence(pods=[by_volume])), "unschedulable")
    assert vol.attributes.get("volume") == "yes"
    assert "affinity" not in vol.attributes and "taint" not in vol.attributes
    aff = _one(_signals(_evidence(pods=[by_affinity])), "unschedulable")
    assert aff.attributes.get("affinity") == "yes"
    assert "volume" not in aff.attributes

    scheduled = _pod(conditions=[Condition(type="PodScheduled", status="True")])
    assert "unschedulable" not in _families(_signals(_evidence(pods=[scheduled])))


def test_unschedulable_mixed_verdicts_and_extended_resources() -> None:
    message = (
        "0/6 nodes are available: 1 Insufficient cpu, 2 Insufficient nvidia.com/gpu, "
        "3 node(s) had volume node affinity conflict. preemption: 0/6 nodes are available: "
        "6 Preemption is not helpful for scheduling."
    )
    events = [_event("FailedScheduling", message, f"pod/{WEB_POD}")]
    sched = _one(_signals(_evidence(events=events)), "unschedulable")
    assert sched.attributes.get("insufficient_cpu") == "yes"
    assert sched.attributes.get("insufficient_gpu") == "yes", sched.attributes
    assert sched.attributes.get("volume") == "yes"
    # the PersistentVolume's zone does not match: a volume problem, not the pod's affinity
    assert "affinity" not in sched.attributes, sched.attributes
    assert "insufficient_memory" not in sched.attributes


# -- restarts, Jobs, probes ------------------------------------------------------------------


def test_restarts_counted_and_dated() -> None:
    fresh = _pod(
        restart_count=5,
        last_termination_reason="Completed",
        last_exit_code=0,
        last_termination_at=ago(4),
    )
    old = _pod(
        name="web-6d4cf56db6-m3n7b",
        restart_count=9,
        last_termination_reason="Completed",
        last_exit_code=0,
        last_termination_at=ago(180),
    )
    few = _pod(name="web-6d4cf56db6-p5r6t", restart_count=2, last_termination_at=ago(4))
    signals = _signals(_evidence(pods=[fresh, old, few]))
    recent = _one(signals, "restarts", f"pod/{WEB_POD}")
    assert WEB_POD in recent.summary and "5" in recent.summary
    assert recent.attributes["restarts"] == "5" and recent.attributes["recent"] == "yes"
    stale = _one(signals, "restarts", "pod/web-6d4cf56db6-m3n7b")
    assert stale.attributes["recent"] == "no"
    assert not _of(signals, "restarts", "pod/web-6d4cf56db6-p5r6t")
    assert "error_exit" not in _families(signals)  # exit 0 is not an error


def test_job_failed_from_the_controller_event_and_the_failed_pod() -> None:
    alert = _alert("KubeJobFailed", job_name="nightly-export", job="kube-state-metrics")
    job_pod = PodState(
        name="nightly-export-8xk2p",
        namespace=NS,
        phase="Failed",
        ready=False,
        owner="nightly-export",
        owner_kind="Job",
        labels={"job-name": "nightly-export", "batch.kubernetes.io/job-name": "nightly-export"},
        container="export",
        last_termination_reason="Error",
        last_exit_code=2,
        last_termination_at=ago(15),
    )
    events = [
        _event(
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
            "job/nightly-export",
            minutes=14,
        )
    ]
    signals = _signals(_evidence(pods=[job_pod], events=events), alert)
    from_event = next(s for s in _of(signals, "job_failed") if s.ref == "events")
    assert from_event.subject == "job/nightly-export"
    assert "nightly-export" in from_event.summary and "backoff limit" in from_event.summary
    assert from_event.attributes["reason"] == "BackoffLimitExceeded"
    assert from_event.in_scope is True
    from_pod = next(s for s in _of(signals, "job_failed") if s.ref == "pods")
    assert "nightly-export-8xk2p" in from_pod.summary
    assert from_pod.attributes["job"] == "nightly-export"
    assert from_pod.in_scope is True


def test_probe_failed_kind_cause_and_whether_it_restarts() -> None:
    liveness = _event(
        "Unhealthy",
        'Liveness probe failed: Get "http://10.0.0.5:8080/healthz": context deadline exceeded '
        "(Client.Timeout exceeded while awaiting headers)",
        f"pod/{WEB_POD}",
        count=15,
    )
    killing = _event(
        "Killing", "Container app failed liveness probe, will be restarted", f"pod/{WEB_POD}"
    )
    readiness = _event(
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        f"pod/{WEB_POD}",
    )
    refused = _event(
        "Unhealthy",
        'Startup probe failed: Get "http://10.0.0.5:8080/ready": dial tcp 10.0.0.5:8080: '
        "connect: connection refused",
        f"pod/{WEB_POD}",
    )
    signals = _signals(_evidence(pods=[_pod()], events=[liveness, killing, readiness, refused]))
    probes = _of(signals, "probe_failed")
    assert len(probes) == 4
    live, kill, ready, start = probes
    assert live.attributes["probe"] == "liveness"
    assert live.attributes["cause"] == "timeout"
    assert live.attributes["restarts_container"] == "yes"
    assert live.count == 15 and WEB_POD in live.summary
    assert kill.attributes["probe"] == "liveness"
    assert kill.attributes["restarts_container"] == "yes"
    assert ready.attributes["probe"] == "readiness"
    assert ready.attributes["cause"] == "http_status"
    assert ready.attributes["restarts_container"] == "no"
    assert start.attributes["probe"] == "startup"
    assert start.attributes["cause"] == "refused"
    assert all(p.in_scope and p.workload == "web" for p in probes)


# -- controllers and admission ---------------------------------------------------------------


QUOTA_MESSAGE = (
    'Error creating: pods "web-6d4cf56db6-" is forbidden: exceeded quota: compute-quota, '
    "requested: limits.memory=2Gi, used: limits.memory=9Gi, limited: limits.memory=10Gi"
)


def test_quota_exceeded_from_the_replicaset_event_and_the_deployment() -> None:
    events = [_event("FailedCreate", QUOTA_MESSAGE, "replicaset/web-6d4cf56db6", count=8)]
    web = Deployment(
        name="web",
        namespace=NS,
        replicas=3,
        ready_replicas=3,
        conditions=[
            Condition(
                type="ReplicaFailure", status="True", reason="FailedCreate", message=QUOTA_MESSAGE
            )
        ],
    )
    signals = _signals(_evidence(events=events, workloads=[web]))
    from_event = next(s for s in _of(signals, "quota_exceeded") if s.ref == "events")
    assert from_event.subject == "replicaset/web-6d4cf56db6"
    assert "web-6d4cf56db6" in from_event.summary
    assert from_event.attributes["quota"] == "compute-quota"
    assert from_event.attributes["limit_range"] == "no"
    assert "limits.memory=10Gi" in from_event.attributes["message"]
    assert from_event.in_scope is True  # the ReplicaSet belongs to the alerting Deployment
    from_workload = next(s for s in _of(signals, "quota_exceeded") if s.ref == "deployments")
    assert from_workload.subject == "deployment/web"
    assert "web" in from_workload.summary and "exceeded quota" in from_workload.summary
    assert from_workload.in_scope is True
    assert "replica_failure" not in _families(signals)


def test_quota_refusing_pods_without_requests_or_limits() -> None:
    """The quota admission plugin's other refusal: the pod must declare what the quota
    tracks ("failed quota: <name>: must specify ..."), for limits and requests alike."""
    messages = {
        "requests": 'Error creating: pods "web-6d4cf56db6-abcde" is forbidden: failed quota: '
        "compute-quota: must specify requests.cpu for: app; requests.memory for: app",
        "limits": 'Error creating: pods "web-6d4cf56db6-abcde" is forbidden: failed quota: '
        "compute-quota: must specify limits.cpu,limits.memory",
    }
    for what, message in messages.items():
        events = [_event("FailedCreate", message, "replicaset/web-6d4cf56db6")]
        quota = _one(_signals(_evidence(events=events)), "quota_exceeded")
        assert quota.attributes["quota"] == "compute-quota", (what, quota.attributes)
        assert f"must specify {what}." in quota.attributes["message"]
        assert quota.in_scope is True


def test_replica_failure_that_is_not_a_quota() -> None:
    message = (
        'pods "web-6d4cf56db6-" is forbidden: error looking up service account shop/web: '
        'serviceaccount "web" not found'
    )
    web = Deployment(
        name="web",
        namespace=NS,
        replicas=3,
        ready_replicas=0,
        conditions=[
            Condition(type="ReplicaFailure", status="True", reason="FailedCreate", message=message)
        ],
    )
    signals = _signals(_evidence(workloads=[web]))
    failure = _one(signals, "replica_failure")
    assert failure.subject == "deployment/web"
    assert 'serviceaccount "web" not found' in failure.summary
    assert failure.attributes["reason"] == "FailedCreate"
    assert "quota_exceeded" not in _families(signals)
    cleared = web.model_copy(
        update={
            "conditions": [Condition(type="ReplicaFailure", status="False")],
            "ready_replicas": 3,
        }
    )
    assert _signals(_evidence(workloads=[cleared])) == []


def test_volume_failure_from_failed_mount() -> None:
    message = (
        'MountVolume.SetUp failed for volume "data" : mount failed: exit status 32\n'
        "Mounting command: mount\nMounting arguments: -t nfs 10.0.0.9:/exports/data "
        "/var/lib/kubelet/pods/5f1c2a9e/volumes/kubernetes.io~nfs/data\n"
        "Output: mount.nfs: Connection timed out"
    )
    events = [_event("FailedMount", message, f"pod/{WEB_POD}", count=6)]
    signals = _signals(_evidence(pods=[_pod(ready=False, phase="Pending")], events=events))
    mount = _one(signals, "volume_failure")
    assert WEB_POD in mount.summary and 'volume "data"' in mount.summary
    assert mount.attributes["reason"] == "FailedMount"
    assert mount.in_scope is True


def test_rollout_stuck_from_the_progressing_condition() -> None:
    web = Deployment(
        name="web",
        namespace=NS,
        replicas=3,
        ready_replicas=3,
        updated_replicas=1,
        conditions=[
            Condition(
                type="Progressing",
                status="False",
                reason="ProgressDeadlineExceeded",
                message='ReplicaSet "web-5d8f" has timed out progressing.',
            ),
            Condition(type="Available", status="True", reason="MinimumReplicasAvailable"),
        ],
    )
    signals = _signals(_evidence(workloads=[web]))
    stuck = _one(signals, "rollout_stuck")
    assert stuck.subject == "deployment/web"
    assert 'ReplicaSet "web-5d8f" has timed out progressing.' in stuck.summary
    assert stuck.attributes["reason"] == "ProgressDeadlineExceeded"
    assert stuck.in_scope is True
    progressing = web.model_copy(
        update={
            "conditions": [
                Condition(type="Progressing", status="True", reason="NewReplicaSetAvailable")
            ]
        }
    )
    assert "rollout_stuck" not in _families(_signals(_evidence(workloads=[progressing])))


def test_replicas_unavailable_for_a_statefulset() -> None:
    db = Deployment(
        name="orders-db",
        namespace=NS,
        kind="StatefulSet",
        replicas=3,
        ready_replicas=1,
        updated_replicas=3,
    )
    signals = _signals(
        _evidence(workloads=[db]),
        _alert("KubeStatefulSetReplicasMismatch", statefulset="orders-db"),
    )
    gap = _one(signals, "replicas_unavailable")
    assert gap.subject == "statefulset/orders-db"
    assert "orders-db" in gap.summary and "1/3" in gap.summary
    assert gap.attributes["ready"] == "1" and gap.attributes["desired"] == "3"
    assert gap.attributes["kind"] == "StatefulSet"
    assert gap.in_scope is True


# -- nodes -----------------------------------------------------------------------------------


def test_node_condition_not_ready_unknown_and_pressure() -> None:
    not_ready = NodeState(
        name="node-a",
        conditions=[
            NodeCondition(
                type="Ready",
                status="False",
                reason="KubeletNotReady",
                message="container runtime network not ready: NetworkReady=false "
                "reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin "
                "not initialized",
            ),
            NodeCondition(
                type="MemoryPressure", status="False", reason="KubeletHasSufficientMemory"
            ),
        ],
    )
    unknown = NodeState(
        name="node-b",
        conditions=[
            NodeCondition(
                type="Ready",
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
            )
        ],
    )
    disk = NodeState(
        name="node-c",
        conditions=[
            NodeCondition(type="Ready", status="True", reason="KubeletReady"),
            NodeCondition(
                type="DiskPressure",
                status="True",
                reason="KubeletHasDiskPressure",
                message="kubelet has disk pressure",
            ),
        ],
    )
    healthy = NodeState(
        name="node-d",
        conditions=[
            NodeCondition(type="Ready", status="True", reason="KubeletReady"),
            NodeCondition(type="DiskPressure", status="False", reason="KubeletHasNoDiskPressure"),
        ],
    )
    pods = [_pod(node="node-a"), _pod(name=BILLING_POD, owner="billing", node="node-b")]
    signals = _signals(_evidence(pods=pods, nodes=[not_ready, unknown, disk, healthy]))
    a = _one(signals, "node_condition", "node/node-a")
    assert "node-a" in a.summary and "NotReady" in a.summary
    assert a.attributes == {"condition": "Ready", "status": "False", "reason": "KubeletNotReady"}
    b = _one(signals, "node_condition", "node/node-b")
    assert b.attributes["status"] == "Unknown" and b.attributes["reason"] == "NodeStatusUnknown"
    c = _one(signals, "node_condition", "node/node-c")
    assert "DiskPressure" in c.summary and c.attributes["condition"] == "DiskPressure"
    assert not _of(signals, "node_condition", "node/node-d")
    # only the node hosting the alerting workload's pod is in scope
    assert a.in_scope is True
    assert b.in_scope is False and c.in_scope is False
    # a namespace-level alert sees every node
    everything = _signals(
        _evidence(pods=pods, nodes=[not_ready, unknown]), _alert("KubeQuotaExceeded")
    )
    assert all(s.in_scope for s in _of(everything, "node_condition"))


def test_node_not_ready_event() -> None:
    events = [_event("NodeNotReady", "Node node-a status is now: NodeNotReady", "node/node-a")]
    signals = _signals(_evidence(events=events), _alert("KubeNodeNotReady", node="node-a"))
    assert "node-a" in _one(signals, "node_condition").summary


# -- scope -----------------------------------------------------------------------------------


def test_another_deployments_pod_in_the_namespace_is_out_of_scope() -> None:
    mine = _pod(restart_count=1)
    neighbour = _pod(
        name=BILLING_POD,
        owner="billing",
        ready=False,
        restart_count=8,
        waiting_reason="CrashLoopBackOff",
        last_termination_reason="OOMKilled",
        last_exit_code=137,
        last_termination_at=ago(2),
    )
    events = [
        _event(
            "BackOff",
            f"Back-off restarting failed container app in pod {BILLING_POD}_{NS}({UID})",
            f"pod/{BILLING_POD}",
        ),
        _event(
            "Unhealthy",
            'Liveness probe failed: Get "http://10.0.0.7:8080/healthz": context deadline exceeded',
            f"pod/{BILLING_POD}",
        ),
        _event(
            "FailedCreate",
            QUOTA_MESSAGE.replace("web-", "billing-"),
            "replicaset/billing-7f9c8d6b5",
        ),
    ]
    billing = Deployment(name="billing", namespace=NS, replicas=2, ready_replicas=0)
    signals = _signals(_evidence(pods=[mine, neighbour], events=events, workloads=[billing]))
    about_billing = [s for s in signals if "billing" in s.subject]
    assert {s.family for s in about_billing} >= {
        "oom_killed",
        "crash_loop",
        "restarts",
        "probe_failed",
        "quota_exceeded",
        "replicas_unavailable",
    }
    assert all(s.in_scope is False for s in about_billing), [
        (s.family, s.subject) for s in about_billing if s.in_scope
    ]
    assert _one(signals, "probe_failed").workload == "billing"
    # the same facts are the alert's own when it names billing
    theirs = _signals(
        _evidence(pods=[mine, neighbour], events=events, workloads=[billing]),
        _alert(deployment="billing"),
    )
    assert all(s.in_scope for s in theirs if "billing" in s.subject)
    # and a namespace-level alert owns them all
    namespace = _signals(
        _evidence(pods=[mine, neighbour], events=events, workloads=[billing]),
        _alert("KubeQuotaExceeded"),
    )
    assert all(s.in_scope for s in namespace)
