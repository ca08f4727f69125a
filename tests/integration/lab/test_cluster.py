"""The lab's Kubernetes, end to end: `python -m firstline.lab.cluster` as a real process,
its pods real processes (standin.py), driven over HTTP by the official client, firstline's
own executors and firstline's Kubernetes source."""

from __future__ import annotations

import os
import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from firstline.actions.catalog import make_action
from firstline.actions.kubernetes.executor import KubernetesExecutor
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from firstline.domain.action import ActionType, ParamValue, RemediationAction, Target
from firstline.domain.alert import Alert
from firstline.domain.query import QueryScope
from firstline.lab.cluster.seed import config_map, lab_deployment, seed
from firstline.sources.kubernetes import KubernetesBackend
from firstline.sources.settings import KubernetesSettings
from tests.integration.lab.conftest import LabCluster, alive, eventually, pid_of
from tests.services.process import free_port

pytestmark = pytest.mark.integration
MI = 1024 * 1024


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the one series of `name` carrying these labels (others may differ)."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return None


def web(name: str, tag: str = "v1", **kwargs: object) -> dict[str, object]:
    return lab_deployment(name, f"standin/web:{tag}", port=free_port(), **kwargs)  # type: ignore[arg-type]


def test_a_deployment_runs_as_a_real_process_with_its_env(lab: LabCluster) -> None:
    settings = config_map("greeter-config", {"greeting": "hello from the config map"})
    seed(
        lab.url,
        [web("greeter", config_map_env={"GREETING": ("greeter-config", "greeting")})],
        [settings],
    )

    pod = eventually(lambda: lab.running_pod("greeter"), "a ready greeter pod")

    pid = pid_of(pod)
    assert alive(pid)
    assert "standin.py" in Path(f"/proc/{pid}/cmdline").read_text()
    env = environ(pid)
    assert env["GREETING"] == "hello from the config map"
    assert env["POD_NAME"] == pod["metadata"]["name"]
    assert (env["POD_NAMESPACE"], env["LAB_RELEASE"]) == ("shop", "v1")
    assert pod["spec"]["nodeName"] == "lab-node"
    (owner,) = pod["metadata"]["ownerReferences"]
    (rs,) = lab.replicasets("greeter")
    assert (
        owner["name"]
        == rs["metadata"]["name"]
        == f"greeter-{rs['metadata']['labels']['pod-template-hash']}"
    )
    assert re.fullmatch(rf"{owner['name']}-[a-z0-9]{{5}}", pod["metadata"]["name"])
    reasons = {e["reason"] for e in lab.events(pod["metadata"]["name"])}
    assert {"Scheduled", "Pulled", "Created", "Started"} <= reasons
    status = lab.deployment("greeter")["status"]
    assert status["availableReplicas"] == 1
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "NewReplicaSetAvailable"


def test_an_image_change_rolls_out_a_new_revision(lab: LabCluster) -> None:
    seed(lab.url, [web("roller")])
    first = eventually(lambda: lab.running_pod("roller"), "the first roller pod")

    lab.set_image("roller", "standin/web:v2", change_cause="release v2")

    second = eventually(lambda: lab.running_pod("roller", "standin/web:v2"), "the v2 pod alone")
    assert second["metadata"]["name"] != first["metadata"]["name"]
    assert pid_of(second) != pid_of(first)
    eventually(lambda: not alive(pid_of(first)), "the old pod's process to end")
    assert environ(pid_of(second))["LAB_RELEASE"] == "v2"
    # the strategic merge patch named only the image: the rest of the container stayed
    assert second["spec"]["containers"][0]["ports"] == first["spec"]["containers"][0]["ports"]
    assert second["spec"]["containers"][0]["env"] == first["spec"]["containers"][0]["env"]
    by_revision = {
        r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r
        for r in lab.replicasets("roller")
    }
    assert sorted(by_revision) == ["1", "2"]
    assert by_revision["1"]["spec"]["replicas"] == 0  # kept as history
    assert by_revision["2"]["metadata"]["annotations"]["kubernetes.io/change-cause"] == "release v2"
    deployment = eventually(
        lambda: (d := lab.deployment("roller"))["status"].get("observedGeneration") == 2 and d,
        "the rollout observed",
    )
    assert deployment["metadata"]["generation"] == 2
    assert deployment["status"]["updatedReplicas"] == 1


def act(action_type: ActionType, kind: str, name: str, **params: ParamValue) -> RemediationAction:
    target = Target(kind=kind, name=name, namespace="shop")
    return make_action(action_type, target, rationale="lab test", parameters=params)


async def test_firstlines_executors_drive_real_rollouts(lab: LabCluster) -> None:
    deployment = web("payments-api", memory_limit="96Mi")
    seed(lab.url, [deployment])
    v1 = eventually(lambda: lab.running_pod("payments-api"), "the v1 pod")
    lab.set_image("payments-api", "standin/web:v2")
    v2 = eventually(lambda: lab.running_pod("payments-api", "standin/web:v2"), "the v2 pod")
    executor = KubernetesExecutor(
        KubernetesActionSettings(
            enabled=True, kubeconfig=lab.kubeconfig, context="lab", timeout_seconds=5.0
        )
    )
    try:
        rollback = act(ActionType.ROLLBACK, "deployment", "payments-api")
        assert (await executor.preflight(rollback)).ok  # access reviews answered
        preview = await executor.dry_run(rollback)
        assert "dryRun=All" in preview and "WARNING" not in preview  # nothing persisted
        outcome = await executor.execute(rollback, "key-rollback")
        assert outcome.ok, outcome.detail
        back = eventually(
            lambda: lab.running_pod("payments-api", "standin/web:v1"), "v1 running again"
        )
        assert environ(pid_of(back))["LAB_RELEASE"] == "v1"
        assert pid_of(back) not in (pid_of(v1), pid_of(v2))
        revisions = {
            r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            for r in lab.replicasets("payments-api")
        }
        assert revisions == {"2", "3"}  # the old ReplicaSet took the next revision

        outcome = await executor.execute(
            act(ActionType.RESTART, "deployment", "payments-api"), "key-restart"
        )
        assert outcome.ok, outcome.detail
        restarted = eventually(
            lambda: (p := lab.running_pod("payments-api")) and pid_of(p) != pid_of(back) and p,
            "a restarted pod",
        )

        outcome = await executor.execute(
            act(
                ActionType.RAISE_RESOURCE_LIMIT,
                "deployment",
                "payments-api",
                resource="memory",
                limit="160Mi",
            ),
            "key-limit",
        )
        assert outcome.ok, outcome.detail
        raised = eventually(
            lambda: (
                (p := lab.running_pod("payments-api"))
                and p["spec"]["containers"][0]["resources"]["limits"]["memory"] == "160Mi"
                and p
            ),
            "a pod with the raised limit",
        )
        assert pid_of(raised) != pid_of(restarted)
        limit = sample(
            lab.metrics(),
            "kube_pod_container_resource_limits",
            pod=raised["metadata"]["name"],
            resource="memory",
            unit="byte",
        )
        assert limit == 160 * MI

        name = raised["metadata"]["name"]
        outcome = await executor.execute(act(ActionType.DELETE_POD, "pod", name), "key-delete")
        assert outcome.ok, outcome.detail
        replacement = eventually(
            lambda: (p := lab.running_pod("payments-api")) and p["metadata"]["name"] != name and p,
            "a replacement pod",
        )
        assert pid_of(replacement) != pid_of(raised)
        eventually(lambda: not alive(pid_of(raised)), "the deleted pod's process to end")
    finally:
        executor.close()


def test_a_crashing_program_goes_into_crash_loop_back_off(lab: LabCluster) -> None:
    seed(lab.url, [lab_deployment("crasher", "standin/crash:v7")])

    def looping() -> dict[str, object] | None:
        pods = lab.pods("crasher")
        status = (pods[0]["status"].get("containerStatuses") or [{}])[0] if pods else {}
        waiting = status.get("state", {}).get("waiting", {})
        if status.get("restartCount", 0) >= 2 and waiting.get("reason") == "CrashLoopBackOff":
            return pods[0]
        return None

    pod = eventually(looping, "two restarts and CrashLoopBackOff")
    (status,) = pod["status"]["containerStatuses"]
    terminated = status["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (1, "Error")
    assert status["ready"] is False
    name = pod["metadata"]["name"]
    previous = lab.core.read_namespaced_pod_log(name, "shop", container="crasher", previous=True)
    assert "boom: bad config v7" in previous
    backoff = [e for e in lab.events(name) if e["reason"] == "BackOff"]
    assert backoff and backoff[0]["type"] == "Warning"
    assert backoff[0]["message"].startswith("Back-off restarting failed container crasher")
    text = lab.metrics()
    assert sample(text, "kube_pod_container_status_restarts_total", pod=name) >= 2  # type: ignore[operator]
    assert (
        sample(
            text, "kube_pod_container_status_waiting_reason", pod=name, reason="CrashLoopBackOff"
        )
        == 1
    )
    assert (
        sample(text, "kube_pod_container_status_last_terminated_reason", pod=name, reason="Error")
        == 1
    )


def test_memory_over_the_limit_is_oom_killed(lab: LabCluster) -> None:
    seed(lab.url, [lab_deployment("hog", "standin/hog:v1", memory_limit="64Mi")])

    def killed() -> dict[str, object] | None:
        pods = lab.pods("hog")
        status = (pods[0]["status"].get("containerStatuses") or [{}])[0] if pods else {}
        return pods[0] if status.get("lastState", {}).get("terminated") else None

    pod = eventually(killed, "the hog's first termination")
    (status,) = pod["status"]["containerStatuses"]
    terminated = status["lastState"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)
    assert status["restartCount"] >= 1
    name = pod["metadata"]["name"]
    (oom, *_) = [e for e in lab.events(name) if e["reason"] == "OOMKilling"]
    assert oom["type"] == "Warning" and "container hog" in oom["message"]
    text = lab.metrics()
    assert (
        sample(
            text, "kube_pod_container_status_last_terminated_reason", pod=name, reason="OOMKilled"
        )
        == 1
    )


def test_metrics_and_service_discovery_follow_the_pods(lab: LabCluster) -> None:
    deployment = web("catalog-lab", memory_limit="128Mi")
    port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]  # type: ignore[index]
    seed(lab.url, [deployment, lab_deployment("indexer", "standin/worker:v1")])
    pod = eventually(lambda: lab.running_pod("catalog-lab"), "a ready catalog pod")
    name, pid = pod["metadata"]["name"], pid_of(pod)
    eventually(lambda: lab.running_pod("indexer"), "a ready indexer pod")

    text = lab.metrics()
    labels = {"namespace": "shop", "pod": name, "container": "catalog-lab"}
    assert sample(text, "kube_pod_container_status_ready", **labels) == 1
    assert sample(text, "kube_pod_status_phase", pod=name, phase="Running") == 1
    assert sample(text, "kube_pod_status_phase", pod=name, phase="Pending") == 0
    assert (
        sample(text, "kube_pod_container_resource_limits", **labels, resource="memory") == 128 * MI
    )
    assert sample(text, "kube_pod_owner", pod=name, owner_kind="ReplicaSet") == 1
    assert (
        sample(text, "kube_replicaset_owner", owner_kind="Deployment", owner_name="catalog-lab")
        == 1
    )
    rss = sample(text, "container_memory_working_set_bytes", **labels)
    vm_rss = next(
        line
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS")
    )
    assert rss is not None and 0.5 < rss / (int(vm_rss.split()[1]) * 1024) < 2
    assert sample(text, "container_cpu_usage_seconds_total", **labels) is not None
    assert sample(text, "kube_deployment_spec_replicas", deployment="indexer") == 1

    targets = httpx.get(f"{lab.metrics_url}/sd", timeout=5).json()
    mine = [t for t in targets if t["labels"]["pod"] == name]
    assert mine == [
        {
            "targets": [f"127.0.0.1:{port}"],
            "labels": {
                "namespace": "shop",
                "service": "catalog-lab",
                "pod": name,
                "container": "catalog-lab",
            },
        }
    ]
    assert not [t for t in targets if t["labels"]["service"] == "indexer"]  # no port, no target

    lab.patch_deployment("indexer", {"spec": {"replicas": 2}})
    eventually(
        lambda: (
            sample(lab.metrics(), "kube_deployment_status_replicas_available", deployment="indexer")
            == 2
        ),
        "two indexers available",
    )
    assert sample(lab.metrics(), "kube_deployment_spec_replicas", deployment="indexer") == 2


async def test_firstlines_kubernetes_source_reads_the_lab(lab: LabCluster) -> None:
    seed(lab.url, [lab_deployment("ledger", "standin/worker:v1")])
    eventually(lambda: lab.running_pod("ledger"), "a ready ledger pod")
    lab.set_image("ledger", "standin/worker:v2")
    pod = eventually(lambda: lab.running_pod("ledger", "standin/worker:v2"), "the v2 ledger pod")
    now = datetime.now(UTC)
    alert = Alert(
        source="alertmanager",
        name="LedgerDown",
        labels={"alertname": "LedgerDown", "namespace": "shop", "service": "ledger"},
        starts_at=now,
        fingerprint="1ed6e",
    )
    scope = QueryScope(
        alert=alert,
        namespace="shop",
        service="ledger",
        start=now - timedelta(minutes=10),
        end=now + timedelta(minutes=1),
    )
    backend = KubernetesBackend(
        KubernetesSettings(
            enabled=True, kubeconfig=lab.kubeconfig, context="lab", timeout_seconds=5.0
        )
    )
    try:
        items = {item.id: item for item in await backend.cluster_state(scope)}
    finally:
        backend.close()
    assert all(item.status == "ok" for item in items.values()), items
    (ledger,) = [d for d in items["deployments"].deployments if d.name == "ledger"]  # type: ignore[attr-defined]
    assert [r.revision for r in ledger.revisions] == [1, 2]
    assert ledger.revisions[-1].images == {"ledger": "standin/worker:v2"}
    pods = {p.name: p for p in items["pods"].pods}  # type: ignore[attr-defined]
    assert pods[pod["metadata"]["name"]].owner == "ledger"
    assert pods[pod["metadata"]["name"]].node == "lab-node"
    reasons = {e.reason for e in items["events"].events}  # type: ignore[attr-defined]
    assert {"ScalingReplicaSet", "Started"} <= reasons
    assert any("image" in c.summary for c in items["changes"].changes)  # type: ignore[attr-defined]
    assert [n.name for n in items["nodes"].nodes] == ["lab-node"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_stopping_the_controller_leaves_no_container_alive(
    tmp_path: Path, how: signal.Signals
) -> None:
    cluster = LabCluster(tmp_path).start()
    try:
        seed(cluster.url, [web("front"), lab_deployment("back", "standin/worker:v1")])
        pids = [
            pid_of(eventually(lambda app=app: cluster.running_pod(app), f"a ready {app} pod"))
            for app in ("front", "back")
        ]
        assert all(alive(pid) for pid in pids)
        assert cluster.service.process is not None
        os.kill(cluster.service.process.pid, how)
        eventually(lambda: not any(alive(pid) for pid in pids), "every container gone", 15)
    finally:
        cluster.stop()


def progressing(deployment: dict[str, object]) -> dict[str, str]:
    conditions = deployment.get("status", {}).get("conditions") or []  # type: ignore[attr-defined]
    return next((c for c in conditions if c["type"] == "Progressing"), {})


def test_a_bad_release_keeps_the_old_pod_and_exceeds_the_progress_deadline(
    lab: LabCluster,
) -> None:
    seed(lab.url, [web("shipping")])
    old = eventually(lambda: lab.running_pod("shipping"), "the good release running")
    lab.patch_deployment("shipping", {"spec": {"progressDeadlineSeconds": 2}})

    lab.set_image("shipping", "standin/crash:v2")

    stuck = eventually(
        lambda: (
            progressing(d := lab.deployment("shipping")).get("reason") == "ProgressDeadlineExceeded"
            and d
        ),
        "the rollout to time out",
    )
    assert progressing(stuck)["status"] == "False"
    assert stuck["status"]["availableReplicas"] == 1  # the old pod still serves
    assert stuck["status"]["updatedReplicas"] == 1
    assert alive(pid_of(old))
    crashing = [p for p in lab.pods("shipping") if p["metadata"]["name"] != old["metadata"]["name"]]
    (status,) = crashing[0]["status"]["containerStatuses"]
    assert status["image"] == "standin/crash:v2" and not status["ready"]


async def test_a_paused_rollout_waits_for_resume(lab: LabCluster) -> None:
    seed(lab.url, [lab_deployment("mailer", "standin/worker:v1")])
    first = eventually(lambda: lab.running_pod("mailer"), "the v1 mailer")
    executor = KubernetesExecutor(
        KubernetesActionSettings(
            enabled=True, kubeconfig=lab.kubeconfig, context="lab", timeout_seconds=5.0
        )
    )
    try:
        pause = act(ActionType.PAUSE_ROLLOUT, "deployment", "mailer")
        assert (await executor.execute(pause, "key-pause")).ok
        lab.set_image("mailer", "standin/worker:v2")
        paused = eventually(
            lambda: (
                (d := lab.deployment("mailer"))["status"].get("observedGeneration")
                == d["metadata"]["generation"]
                and progressing(d).get("reason") == "DeploymentPaused"
                and d
            ),
            "the change observed while paused",
        )
        assert paused["metadata"]["generation"] == 3  # pause, then the image
        assert len(lab.replicasets("mailer")) == 1  # no new revision while paused
        assert lab.running_pod("mailer", "standin/worker:v1") is not None
        assert alive(pid_of(first))

        resume = act(ActionType.RESUME_ROLLOUT, "deployment", "mailer")
        assert (await executor.execute(resume, "key-resume")).ok
        eventually(lambda: lab.running_pod("mailer", "standin/worker:v2"), "the v2 mailer")
        assert len(lab.replicasets("mailer")) == 2
    finally:
        executor.close()
