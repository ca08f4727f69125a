"""Rollout history and the changes inside the incident window, read from ReplicaSets.

kmock stands in for a real API server (no kube-apiserver runs here; see conftest.py). It
has no Deployment controller, so each test writes the ReplicaSets that controller would
have written: owner reference, revision annotation, change-cause, pod template.
"""

from __future__ import annotations

from datetime import timedelta

from firstline.sources.kubernetes import KubernetesBackend
from firstline.sources.kubernetes.history import image_change, relative
from firstline.sources.settings import KubernetesSettings
from tests.integration.kubernetes.conftest import Cluster, by_id, scope
from tests.integration.kubernetes.objects import (
    ALERT_AT,
    NOW,
    container,
    deployment,
    replicaset,
)

DAY = 24 * 60


def checkout_history(cluster: Cluster) -> None:
    """checkout: revision 5 and 6 days ago, revision 7 rolled out 14 min ago (12 min
    before the alert) with a new image, a changed and a new variable, a bigger limit."""
    old = [container("checkout", "shop/checkout:1.4.1", {"LOG_LEVEL": "info"}, "512Mi")]
    prev = [container("checkout", "shop/checkout:1.4.2", {"LOG_LEVEL": "info"}, "512Mi")]
    new = [
        container(
            "checkout", "shop/checkout:1.5.0", {"LOG_LEVEL": "debug", "FEATURE_X": "on"}, "1Gi"
        )
    ]
    dep = deployment("checkout", containers=new)
    cluster.add(
        dep,
        replicaset(dep, 5, "5d8f7", containers=old, minutes_ago=3 * DAY),
        replicaset(dep, 6, "6c9a1", containers=prev, minutes_ago=2 * DAY),
        replicaset(
            dep, 7, "7b2e4", containers=new, minutes_ago=14, change_cause="ci pipeline #4411"
        ),
    )


async def test_rollout_history_and_the_change_inside_the_window(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    checkout_history(cluster)

    items = await backend.cluster_state(scope(labels={"service": "checkout"}))

    deployments = by_id(items, "deployments")
    assert deployments.status == "ok"
    (checkout,) = deployments.deployments
    assert [r.revision for r in checkout.revisions] == [5, 6, 7]
    current = checkout.current
    assert current.created_at == NOW - timedelta(minutes=14)
    assert current.change_cause == "ci pipeline #4411"
    (spec,) = current.containers
    assert spec.image == "shop/checkout:1.5.0"
    assert spec.env == {"LOG_LEVEL": "debug", "FEATURE_X": "on"}
    assert (spec.memory_limit, spec.cpu_limit) == ("1Gi", "500m")
    assert checkout.previous.images == {"checkout": "shop/checkout:1.4.2"}

    changes = by_id(items, "changes")
    (change,) = changes.changes  # revisions 5 and 6 are older than the window
    assert change.summary == (
        "deployment shop/checkout rolled to revision 7: image shop/checkout:1.4.2 -> 1.5.0; "
        "env FEATURE_X, LOG_LEVEL changed; memory limit 512Mi -> 1Gi, 12 min before the alert"
    )
    assert change.at == NOW - timedelta(minutes=14)
    assert (change.object, change.kind) == ("deployment/shop/checkout", "rollout")
    assert change.details == {
        "revision": "7",
        "previous_revision": "6",
        "replicaset": "checkout-7b2e4",
        "change_cause": "ci pipeline #4411",
        "image checkout": "shop/checkout:1.4.2 -> shop/checkout:1.5.0",
        "env checkout.FEATURE_X": "(unset) -> on",
        "env checkout.LOG_LEVEL": "info -> debug",
        "memory_limit checkout": "512Mi -> 1Gi",
    }

    for item in (deployments, changes):
        assert item.provenance.source == "kubernetes"
        assert item.provenance.query == (
            "GET /apis/apps/v1/namespaces/shop/deployments; "
            "GET /apis/apps/v1/namespaces/shop/replicasets"
        )
        assert (item.provenance.start, item.provenance.end) == (NOW - timedelta(hours=1), NOW)
    # The provenance names the requests that were really made.
    assert "GET /apis/apps/v1/namespaces/shop/deployments" in cluster.paths()
    assert "GET /apis/apps/v1/namespaces/shop/replicasets" in cluster.paths()


async def test_history_follows_owner_references_not_labels(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    """A canary Deployment and a hand-made ReplicaSet carry checkout's labels; a label
    selector would fold them into checkout's history, owner references do not."""
    checkout_history(cluster)
    canary = deployment("checkout-canary", app="checkout")
    same_labels = {"app": "checkout"}
    cluster.add(
        canary,
        replicaset(
            canary, 2, "9f9f9", minutes_ago=30, labels=same_labels,
            containers=[container("checkout", "shop/checkout:2.0.0-rc1")],
        ),
        replicaset(
            None, 99, "0a0a0", name="checkout-manual", minutes_ago=20, labels=same_labels,
            containers=[container("checkout", "shop/checkout:hotfix")],
        ),
    )  # fmt: skip

    items = await backend.cluster_state(scope(labels={"service": "checkout"}))

    deployments = {d.name: d for d in by_id(items, "deployments").deployments}
    assert [r.revision for r in deployments["checkout"].revisions] == [5, 6, 7]
    assert [r.revision for r in deployments["checkout-canary"].revisions] == [2]
    assert [c.object for c in by_id(items, "changes").changes] == [
        "deployment/shop/checkout",  # newest first
        "deployment/shop/checkout-canary",
    ]
    canary_change = by_id(items, "changes").changes[1]
    assert "previous revision is no longer kept" in canary_change.summary


async def test_history_limit_trims_the_evidence_not_the_diff(
    cluster: Cluster, settings: KubernetesSettings
) -> None:
    checkout_history(cluster)
    backend = KubernetesBackend(settings.model_copy(update={"history_limit": 1}))
    try:
        items = await backend.cluster_state(scope(labels={"service": "checkout"}))
    finally:
        backend.close()
    (checkout,) = by_id(items, "deployments").deployments
    assert [r.revision for r in checkout.revisions] == [7]
    (change,) = by_id(items, "changes").changes
    assert change.details["previous_revision"] == "6"
    assert "image shop/checkout:1.4.2 -> 1.5.0" in change.summary


async def test_a_rollback_is_dated_by_the_deployments_progress(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    """`kubectl rollout undo` re-stamps the old ReplicaSet with a new revision number; its
    creation time stays days old. The rollout time comes from the Deployment's Progressing
    condition instead."""
    good = [container("checkout", "shop/checkout:1.4.2")]
    bad = [container("checkout", "shop/checkout:1.5.0")]
    dep = deployment("checkout", containers=good, progressed_minutes_ago=5)
    cluster.add(
        dep,
        replicaset(dep, 8, "6c9a1", containers=good, minutes_ago=2 * DAY, revision_history="6"),
        replicaset(dep, 7, "7b2e4", containers=bad, minutes_ago=40),
    )

    items = await backend.cluster_state(scope(labels={"service": "checkout"}))

    (checkout,) = by_id(items, "deployments").deployments
    assert checkout.current.revision == 8
    assert checkout.current.created_at == NOW - timedelta(minutes=5)
    rollback, rollout = by_id(items, "changes").changes
    assert rollback.summary == (
        "deployment shop/checkout rolled back to revision 8: "
        "image shop/checkout:1.5.0 -> 1.4.2, 3 min before the alert"
    )
    assert rollback.details["rollback"] == "true"
    assert rollout.summary.startswith("deployment shop/checkout rolled to revision 7: image")
    assert rollout.summary.endswith("38 min before the alert")


async def test_multi_container_and_first_revisions(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    two = [container("api", "reg.example:5000/cart/api:3.1"), container("proxy", "envoy:1.29")]
    three = [
        container("api", "reg.example:5000/cart/api:3.2"),
        container("proxy", "envoy:1.30"),
        container("agent", "datadog/agent:7"),
    ]
    cart = deployment("cart", containers=three)
    fresh = deployment("promo")
    cluster.add(
        cart,
        replicaset(cart, 3, "aaaaa", containers=two, minutes_ago=DAY),
        replicaset(cart, 4, "bbbbb", containers=three, minutes_ago=50),
        fresh,
        replicaset(fresh, 1, "ccccc", minutes_ago=91,
                   containers=[container("promo", "shop/promo:0.1.0")]),
    )  # fmt: skip

    items = await backend.cluster_state(scope(window_minutes=120))

    summaries = [c.summary for c in by_id(items, "changes").changes]
    assert summaries == [
        "deployment shop/cart rolled to revision 4: image api reg.example:5000/cart/api:3.1 -> "
        "3.2; image proxy envoy:1.29 -> 1.30; container agent added, 48 min before the alert",
        "deployment shop/promo rolled to revision 1: first revision, image shop/promo:0.1.0, "
        "89 min before the alert",
    ]


def test_change_wording() -> None:
    assert image_change("shop/a:1", "shop/a:2") == "shop/a:1 -> 2"
    assert image_change("shop/a:1", "other/a:2") == "shop/a:1 -> other/a:2"
    assert image_change("shop/a@sha256:aa", "shop/a@sha256:bb") == "shop/a@sha256:aa -> sha256:bb"
    assert image_change("localhost:5000/a", "localhost:5000/a:2") == "localhost:5000/a -> 2"
    assert relative(ALERT_AT - timedelta(seconds=20), ALERT_AT) == (
        "less than a minute before the alert"
    )
    assert relative(ALERT_AT + timedelta(minutes=3), ALERT_AT) == "3 min after the alert"
    assert relative(ALERT_AT - timedelta(minutes=185), ALERT_AT) == "3 h 5 min before the alert"


async def test_config_diff_names_references_and_hides_secrets(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    """A swapped ConfigMap, a changed reference and a rotated literal password all show in
    the diff; the password's value does not."""

    def api(config_map: str, db_key: str, password: str) -> list[dict[str, object]]:
        return [
            {
                "name": "api",
                "image": "shop/api:2.0",
                "env": [
                    {"name": "DB_PASSWORD", "value": password},
                    {"name": "DB_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": db_key}}},
                    {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "api", "key": "mode"}}},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                ],
                "envFrom": [{"configMapRef": {"name": config_map}}, {"secretRef": {"name": "api-keys"}}],
            }
        ]  # fmt: skip

    dep = deployment("api", containers=api("api-config-v2", "url-replica", "hunter3"))
    cluster.add(
        dep,
        replicaset(dep, 1, "aaaaa", minutes_ago=DAY, containers=api("api-config-v1", "url", "hunter2")),
        replicaset(dep, 2, "bbbbb", minutes_ago=30, containers=api("api-config-v2", "url-replica", "hunter3")),
    )  # fmt: skip

    items = await backend.cluster_state(scope(labels={"service": "api"}))

    (spec,) = by_id(items, "deployments").deployments[0].current.containers
    assert spec.env["DB_URL"] == "<secret db/url-replica>"
    assert spec.env["MODE"] == "<configmap api/mode>"
    assert spec.env["POD_IP"] == "<field status.podIP>"
    assert spec.env["(envFrom)"] == "configmap/api-config-v2, secret/api-keys"
    assert spec.env["DB_PASSWORD"].startswith("<redacted ")
    (change,) = by_id(items, "changes").changes
    assert "env (envFrom), DB_PASSWORD, DB_URL changed" in change.summary
    assert change.details["env api.(envFrom)"] == (
        "configmap/api-config-v1, secret/api-keys -> configmap/api-config-v2, secret/api-keys"
    )
    assert change.details["env api.DB_URL"] == "<secret db/url> -> <secret db/url-replica>"
    assert "hunter" not in repr(items)
