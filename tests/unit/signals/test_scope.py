"""resolve_scope: the alerting workload from the labels real alerts carry (kube-state-metrics'
`job_name`, a `pod` resolved through its owner, a ReplicaSet), never the exporter that
reported it, never a place like `namespace`; and what the scope owns."""

from __future__ import annotations

from datetime import UTC, datetime

from firstline.domain.alert import Alert, fingerprint_labels
from firstline.domain.evidence import PodState
from firstline.knowledge.catalog import prior_for
from firstline.signals.scope import WorkloadScope, resolve_scope

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
KSM = "kube-state-metrics"
# what kube-prometheus' kube-state-metrics scrape adds to every series it reports
KSM_LABELS = {
    "job": KSM,
    "service": KSM,
    "endpoint": "http",
    "instance": "10.42.0.17:8080",
    "pod": "kube-state-metrics-6c9f8b7d4-k2x9q",
    "container": KSM,
}


def _alert(name: str, **labels: str) -> Alert:
    merged = {"alertname": name, **labels}
    return Alert(
        source="alertmanager",
        name=name,
        labels=merged,
        starts_at=T0,
        fingerprint=fingerprint_labels(merged),
    )


def _pod(
    name: str,
    namespace: str = "shop",
    owner: str | None = None,
    owner_kind: str | None = None,
    **labels: str,
) -> PodState:
    return PodState(
        name=name, namespace=namespace, owner=owner, owner_kind=owner_kind, labels=dict(labels)
    )


def _scope(alert: Alert, pods: list[PodState] | None = None) -> WorkloadScope:
    """The scope the way the reasoner resolves it: with the catalog's label roles."""
    prior = prior_for(alert)
    return resolve_scope(alert, pods or [], prior.workload_labels, prior.reporter_labels)


# -- Jobs ------------------------------------------------------------------------------------


def test_kube_job_failed_resolves_to_the_job_not_kube_state_metrics() -> None:
    alert = _alert(
        "KubeJobFailed",
        namespace="batch",
        job_name="nightly-export",
        severity="warning",
        **KSM_LABELS,
    )
    scope = _scope(alert)
    assert scope.workloads == frozenset({"nightly-export"})
    assert scope.kind == "Job"
    assert scope.label == "job_name"
    assert scope.primary == "nightly-export"
    assert scope.namespace == "batch"
    # the kube-state-metrics pod on the series is the reporter, not an alerted pod
    assert scope.pods == frozenset()
    assert not scope.empty
    assert scope.names("job/nightly-export")
    assert not scope.names(f"deployment/{KSM}")


def test_a_job_scope_owns_the_pods_labelled_with_its_job_name() -> None:
    scope = _scope(
        _alert("KubeJobFailed", namespace="batch", job_name="nightly-export", **KSM_LABELS)
    )
    # pods a Job creates carry job-name (and, since 1.27, batch.kubernetes.io/job-name)
    by_legacy_label = _pod(
        "nightly-export-28391040-x7k2p", "batch", **{"job-name": "nightly-export"}
    )
    by_new_label = _pod(
        "export-run-q4z8m", "batch", **{"batch.kubernetes.io/job-name": "nightly-export"}
    )
    by_owner = _pod("export-run-b2c3d", "batch", owner="nightly-export", owner_kind="Job")
    other_job = _pod("nightly-report-28391040-m5n6p", "batch", **{"job-name": "nightly-report"})
    web = _pod("web-6d4cf56db6-x2k9p", "batch", owner="web", owner_kind="Deployment")
    assert scope.owns(by_legacy_label)
    assert scope.owns(by_new_label)
    assert scope.owns(by_owner)
    assert not scope.owns(other_job)
    assert not scope.owns(web)
    pods = [by_legacy_label, by_new_label, by_owner, other_job, web]
    assert scope.select(pods) == [by_legacy_label, by_new_label, by_owner]


def test_a_job_scope_names_its_pods_by_the_job_controllers_generated_names() -> None:
    """The Job controller names its pods "<job>-<5 random characters>" (generateName), and a
    CronJob's Job is "<cronjob>-<scheduled time>": events about those pods are the Job's."""
    scope = _scope(
        _alert("KubeJobFailed", namespace="batch", job_name="nightly-export", **KSM_LABELS)
    )
    assert scope.names("pod/nightly-export-x7k2p")
    assert not scope.names("pod/nightly-export-v2-x7k2p")  # another Job's pod
    assert not scope.names("pod/nightly-exporter-x7k2p")
    scheduled = _scope(
        _alert("KubeJobFailed", namespace="batch", job_name="nightly-export-28391040", **KSM_LABELS)
    )
    assert scheduled.names("pod/nightly-export-28391040-x7k2p")
    assert not scheduled.names("pod/nightly-export-28391100-x7k2p")  # the next run's pod


# -- pods and owners -------------------------------------------------------------------------


def test_a_pod_label_resolves_to_its_owner_as_the_cluster_reports_it() -> None:
    # an Argo Rollout's pod: its name follows no Deployment convention, the owner says who
    alerted = _pod("payments-canary-abc12", owner="payments", owner_kind="Rollout")
    sibling = _pod("payments-stable-def34", owner="payments", owner_kind="Rollout")
    neighbour = _pod("billing-7f9c8d6b5-q8w4z", owner="billing", owner_kind="Deployment")
    alert = _alert(
        "KubePodCrashLooping",
        namespace="shop",
        **{**KSM_LABELS, "pod": "payments-canary-abc12", "container": "app"},
    )
    scope = _scope(alert, [alerted, sibling, neighbour])
    assert scope.label == "pod"
    assert scope.pods == frozenset({"payments-canary-abc12"})
    assert scope.workloads == frozenset({"payments"})
    assert scope.primary == "payments"
    assert scope.owns(alerted) and scope.owns(sibling)
    assert not scope.owns(neighbour)
    assert scope.names("pod/payments-canary-abc12")
    assert not scope.names("pod/billing-7f9c8d6b5-q8w4z")


def test_a_pod_label_without_cluster_evidence_falls_back_to_the_naming_convention() -> None:
    alert = _alert(
        "KubePodCrashLooping",
        namespace="shop",
        **{**KSM_LABELS, "pod": "checkout-7d9f8c6b5-x2k9p", "container": "checkout"},
    )
    scope = _scope(alert)
    assert scope.workloads == frozenset({"checkout"})
    assert scope.owns(_pod("checkout-7d9f8c6b5-a1b2c"))
    assert not scope.owns(_pod("checkout-api-5c4b3a2d1-a1b2c"))
    stateful = _scope(
        _alert("KubePodCrashLooping", namespace="shop", **{**KSM_LABELS, "pod": "orders-db-0"})
    )
    assert stateful.workloads == frozenset({"orders-db"})
    assert stateful.owns(_pod("orders-db-2"))


def test_an_owner_reference_beats_the_naming_convention() -> None:
    # named like a pod of Deployment "web", but the cluster says it belongs to "web-canary"
    odd = _pod("web-6d4cf56db6-x2k9p", owner="web-canary", owner_kind="Deployment")
    scope = resolve_scope(_alert("PodDown", namespace="shop", deployment="web"), [odd])
    assert not scope.owns(odd)


def test_a_replicaset_label_resolves_to_its_deployment() -> None:
    alert = _alert(
        "ReplicaSetDegraded", namespace="shop", replicaset="web-6d4cf56db6", **KSM_LABELS
    )
    scope = resolve_scope(alert, [], ["namespace", "replicaset"], ["job", "service", "instance"])
    assert scope.workloads == frozenset({"web"})
    assert scope.primary == "web"
    assert scope.owns(_pod("web-6d4cf56db6-x2k9p", owner="web", owner_kind="Deployment"))
    assert scope.owns(_pod("web-5d8f7c9b4-z9y8x"))  # another ReplicaSet of the same Deployment
    assert not scope.owns(_pod("webhook-5d8f7c9b4-z9y8x", owner="webhook"))
    assert scope.names("replicaset/web-6d4cf56db6")


def test_a_workload_label_with_a_pod_label_pins_the_alerted_pod_too() -> None:
    alert = _alert(
        "KubeDeploymentReplicasMismatch",
        namespace="shop",
        deployment="web",
        **{**KSM_LABELS, "pod": "web-6d4cf56db6-x2k9p"},
    )
    scope = _scope(alert)
    assert scope.workloads == frozenset({"web"})
    assert scope.kind == "Deployment"
    assert scope.pods == frozenset({"web-6d4cf56db6-x2k9p"})


# -- reporters and places --------------------------------------------------------------------


def test_exporter_labels_are_never_the_workload() -> None:
    alert = _alert(
        "NodeFilesystemSpaceFillingUp",
        namespace="monitoring",
        job="node-exporter",
        service="kube-prometheus-stack-prometheus-node-exporter",
        instance="10.0.3.12:9100",
        pod="kube-prometheus-stack-prometheus-node-exporter-7xk2p",
        container="node-exporter",
        mountpoint="/var/lib/containerd",
        device="/dev/nvme0n1p1",
    )
    scope = _scope(alert)
    assert scope.empty
    assert scope.primary is None
    assert scope.workloads == frozenset() and scope.pods == frozenset()
    # the same with no catalog at all: exporter names are recognised by themselves
    bare = resolve_scope(_alert("SomethingUnknown", namespace="shop", **KSM_LABELS))
    assert bare.empty
    bare_node = resolve_scope(_alert("SomethingElse", namespace="shop", job="node-exporter"))
    assert bare_node.empty


def test_exporter_labels_next_to_a_workload_label_leave_the_workload() -> None:
    scope = resolve_scope(
        _alert("KubeDeploymentRolloutStuck", namespace="shop", deployment="web", **KSM_LABELS)
    )
    assert scope.workloads == frozenset({"web"})
    assert KSM not in scope.workloads and "node-exporter" not in scope.workloads


def test_an_exporters_own_workload_named_by_a_kind_label_is_the_workload() -> None:
    """KubeDaemonSetRolloutStuck{daemonset="node-exporter"} is about the node-exporter
    DaemonSet: a `daemonset`/`deployment` label names a workload, whatever it is called."""
    rollout = _alert(
        "KubeDaemonSetRolloutStuck", namespace="monitoring", daemonset="node-exporter", **KSM_LABELS
    )
    scope = _scope(rollout)
    assert scope.workloads == frozenset({"node-exporter"})
    assert scope.kind == "DaemonSet"
    exporter = _pod(
        "node-exporter-7xk2p", "monitoring", owner="node-exporter", owner_kind="DaemonSet"
    )
    grafana = _pod(
        "grafana-5c4b3a2d1-a1b2c", "monitoring", owner="grafana", owner_kind="Deployment"
    )
    assert scope.owns(exporter)
    assert not scope.owns(grafana)  # a neighbour in monitoring is not the DaemonSet's problem
    for kind, name in (("deployment", "cert-manager"), ("deployment", KSM)):
        mismatch = _alert(
            "KubeDeploymentReplicasMismatch", namespace="monitoring", **{**KSM_LABELS, kind: name}
        )
        assert _scope(mismatch).workloads == frozenset({name}), (kind, name)
    # the reporter's pod on the same series is still not pinned as the alerted pod
    assert scope.pods == frozenset()


def test_catalog_reporter_labels_are_skipped_even_with_an_ordinary_value() -> None:
    alert = _alert("AppLatencyHigh", namespace="shop", job="shop-metrics", app="checkout")
    scope = resolve_scope(alert, [], [], ["job"])
    assert scope.workloads == frozenset({"checkout"})
    assert scope.label == "app"
    assert "job" in scope.reporter_labels
    # without that knowledge the job label would have been a candidate, but app comes first
    plain = resolve_scope(_alert("AppLatencyHigh", namespace="shop", job="shop-metrics"))
    assert plain.workloads == frozenset({"shop-metrics"})
    told = resolve_scope(
        _alert("AppLatencyHigh", namespace="shop", job="shop-metrics"), [], [], ["job"]
    )
    assert told.empty


def test_catalog_workload_labels_that_name_places_are_ignored() -> None:
    quota = _alert(
        "KubeQuotaExceeded",
        namespace="shop",
        resourcequota="compute-quota",
        resource="limits.memory",
        **{k: v for k, v in KSM_LABELS.items() if k != "pod"},
    )
    scope = _scope(quota)
    assert "namespace" in prior_for(quota).workload_labels  # the catalog names it...
    assert scope.empty  # ...but a namespace is a place, not a workload
    assert "shop" not in scope.workloads
    assert scope.namespace == "shop"
    # a place label listed first never outranks a workload label
    web = resolve_scope(
        _alert("Anything", namespace="shop", node="node-a", deployment="web"),
        [],
        ["namespace", "node", "instance"],
    )
    assert web.workloads == frozenset({"web"})


def test_catalog_preference_orders_the_workload_labels() -> None:
    alert = _alert("Custom", namespace="shop", app="frontend", statefulset="cache")
    assert resolve_scope(alert).workloads == frozenset({"cache"})  # convention: statefulset first
    preferred = resolve_scope(alert, [], ["app"])
    assert preferred.workloads == frozenset({"frontend"})
    assert preferred.label == "app"


# -- namespace-level alerts ------------------------------------------------------------------


def test_a_namespace_level_alert_is_an_empty_scope_owning_the_namespace() -> None:
    scope = _scope(_alert("KubeQuotaAlmostFull", namespace="shop", resourcequota="compute-quota"))
    assert scope.empty
    assert scope.namespace == "shop"
    web = _pod("web-6d4cf56db6-x2k9p", owner="web", owner_kind="Deployment")
    job = _pod("nightly-export-28391040-x7k2p", **{"job-name": "nightly-export"})
    elsewhere = _pod("web-6d4cf56db6-x2k9p", namespace="payments", owner="web")
    assert scope.owns(web) and scope.owns(job)
    assert not scope.owns(elsewhere)
    assert scope.select([web, elsewhere, job]) == [web, job]
    assert scope.names("pod/anything") and scope.names("deployment/web")


def test_a_cluster_level_alert_owns_every_pod() -> None:
    scope = resolve_scope(_alert("KubeAPIErrorBudgetBurn", long="1h", short="5m"))
    assert scope.empty and scope.namespace is None
    assert scope.owns(_pod("a-6d4cf56db6-x2k9p", namespace="one"))
    assert scope.owns(_pod("b-6d4cf56db6-x2k9p", namespace="two"))
