"""One case per Kubernetes action type: the objects to seed, the action, how its success
shows in the emulator's stored state, and one way preflight must refuse it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from firstline.actions.base import ExecutionOutcome
from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, ParamValue, RemediationAction, Target
from tests.integration.actions.kubernetes.builders import (
    EXPIRING,
    RENEWED,
    certificate,
    tls_secret,
    workload,
)
from tests.integration.actions.kubernetes.conftest import Cluster
from tests.integration.kubernetes.objects import Obj, container, deployment, node, pod, replicaset

KEY = "0123456789abcdef01234567"
ACTION_KEY = "firstline.io/action-key"
DAY = 24 * 60


def act(
    action_type: ActionType,
    kind: str,
    name: str,
    namespace: str | None = "shop",
    /,
    **params: ParamValue,
) -> RemediationAction:
    return make_action(
        action_type,
        Target(kind=kind, name=name, namespace=namespace),
        rationale="test",
        parameters=params,
    )


@dataclass
class Case:
    id: str
    seed: Callable[[], list[Obj]]
    action: RemediationAction
    check: Callable[[Cluster, ExecutionOutcome], None]
    refusal: RemediationAction
    refusal_reason: str
    refusal_seed: Callable[[], list[Obj]] | None = None
    controller: Callable[[Cluster], Coroutine[Any, Any, None]] | None = None
    diff_shows: list[str] = field(default_factory=list)


def _checkout(**kwargs: object) -> Obj:
    memory = [container("checkout", "shop/checkout:1.5.0", {"LOG_LEVEL": "debug"}, "512Mi")]
    return deployment("checkout", containers=memory, **kwargs)  # type: ignore[arg-type]


def _paused() -> Obj:
    obj = _checkout()
    obj["spec"]["paused"] = True
    return obj


def _kind_of(case_kind: str) -> Callable[[], list[Obj]]:
    return lambda: [workload(case_kind, "checkout")]


# -- checks, reading the emulator's stored objects back -------------------------------------


def _stamped(obj: Obj | None) -> Obj:
    assert obj is not None
    assert obj["metadata"]["annotations"][ACTION_KEY] == KEY
    return obj


def _restarted(kind: str) -> Callable[[Cluster, ExecutionOutcome], None]:
    def check(cluster: Cluster, outcome: ExecutionOutcome) -> None:
        obj = _stamped(cluster.get(kind, "checkout"))
        annotations = obj["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {"kubectl.kubernetes.io/restartedAt": "2026-07-21T15:00:00Z"}
        assert outcome.undo is None

    return check


def _scaled(cluster: Cluster, outcome: ExecutionOutcome) -> None:
    assert _stamped(cluster.get("Deployment", "checkout"))["spec"]["replicas"] == 5
    assert outcome.undo is not None and outcome.undo.type is ActionType.SCALE
    assert outcome.undo.parameters == {"replicas": 3}
    assert outcome.report == {"replicas_before": 3, "replicas_after": 5}


def _history() -> list[Obj]:
    old = [container("checkout", "shop/checkout:1.4.1", {"LOG_LEVEL": "info"}, "512Mi")]
    prev = [container("checkout", "shop/checkout:1.4.2", {"LOG_LEVEL": "info"}, "512Mi")]
    new = [container("checkout", "shop/checkout:1.5.0", {"LOG_LEVEL": "debug"}, "1Gi")]
    dep = deployment("checkout", containers=new)
    dep["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "7"}
    other = deployment("checkout-canary", containers=old)
    return [
        dep,
        replicaset(dep, 5, "5d8f7", containers=old, minutes_ago=3 * DAY),
        replicaset(
            dep, 6, "6c9a1", containers=prev, minutes_ago=2 * DAY, change_cause="deploy 1.4.2"
        ),
        replicaset(dep, 7, "7b2e4", containers=new, minutes_ago=14),
        # revision 9 of another Deployment: a selector-ignoring listing returns it too
        replicaset(other, 9, "9x9x9", containers=old, minutes_ago=5),
    ]


def _rolled_back(cluster: Cluster, outcome: ExecutionOutcome) -> None:
    obj = _stamped(cluster.get("Deployment", "checkout"))
    template = obj["spec"]["template"]
    assert template["metadata"]["labels"] == {"app": "checkout"}  # no pod-template-hash
    (spec,) = template["spec"]["containers"]
    assert spec["image"] == "shop/checkout:1.4.2"
    assert spec["env"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert spec["resources"]["limits"]["memory"] == "512Mi"
    assert obj["metadata"]["annotations"]["kubernetes.io/change-cause"] == "deploy 1.4.2"
    assert obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "7"
    assert outcome.undo is not None and outcome.undo.parameters == {"to_revision": 7}
    assert outcome.report["to_revision"] == 6


def _pods() -> list[Obj]:
    dep = deployment("checkout")
    rs = replicaset(dep, 7, "7b2e4", containers=[container("checkout", "x")], minutes_ago=14)
    return [dep, rs, pod("checkout-7b2e4-abcde", rs), pod("checkout-7b2e4-fghij", rs)]


def _pod_deleted(cluster: Cluster, outcome: ExecutionOutcome) -> None:
    assert cluster.get("Pod", "checkout-7b2e4-abcde") is None
    assert cluster.get("Pod", "checkout-7b2e4-fghij") is not None  # exactly one pod
    assert outcome.report["owner"] == "ReplicaSet/checkout-7b2e4"


def _limit_raised(cluster: Cluster, outcome: ExecutionOutcome) -> None:
    obj = _stamped(cluster.get("Deployment", "checkout"))
    (spec,) = obj["spec"]["template"]["spec"]["containers"]
    assert spec["resources"]["limits"] == {"memory": "768Mi", "cpu": "500m"}
    assert spec["image"] == "shop/checkout:1.5.0"  # the rest of the container survives
    assert outcome.undo is not None
    assert outcome.undo.parameters == {
        "container": "checkout",
        "resource": "memory",
        "limit": "512Mi",
        "restore": True,
    }


def _paused_now(cluster: Cluster, outcome: ExecutionOutcome) -> None:
    assert _stamped(cluster.get("Deployment", "checkout"))["spec"]["paused"] is True
    assert outcome.undo is not None and outcome.undo.type is ActionType.RESUME_ROLLOUT


def _resumed(cluster: Cluster, outcome: ExecutionOutcome) -> None:
    assert _stamped(cluster.get("Deployment", "checkout"))["spec"]["paused"] is False
    assert outcome.undo is not None and outcome.undo.type is ActionType.PAUSE_ROLLOUT


def _cordoned(cluster: Cluster, outcome: ExecutionOutcome) -> None:
    obj = _stamped(cluster.get("Node", "node-a", None))
    assert obj["spec"]["unschedulable"] is True
    assert outcome.undo is not None and outcome.undo.type is ActionType.CORDON_NODE
    assert outcome.undo.parameters == {"uncordon": True}


def _cordoned_node() -> Obj:
    obj = node("node-a")
    obj["spec"] = {"unschedulable": True}
    return obj


def _certs() -> list[Obj]:
    return [certificate("web", "web-tls"), tls_secret("web-tls", EXPIRING, serial=1001)]


def _issuing_cert() -> list[Obj]:
    cert = certificate("web", "web-tls")
    cert["status"]["conditions"].append({"type": "Issuing", "status": "True"})
    return [cert, tls_secret("web-tls", EXPIRING, serial=1001)]


async def fake_cert_manager(cluster: Cluster) -> None:
    """What cert-manager's controllers do on Issuing=True: issue a new certificate into the
    Secret and drop the Issuing condition (kmock runs no controllers)."""
    for _ in range(1000):
        cert = cluster.get("Certificate", "web")
        conditions = (cert or {}).get("status", {}).get("conditions", [])
        if cert is not None and any(c["type"] == "Issuing" for c in conditions):
            cluster.add(tls_secret("web-tls", RENEWED, serial=2002))
            cert["status"]["conditions"] = [c for c in conditions if c["type"] != "Issuing"]
            cluster.add(cert)
            return
        await asyncio.sleep(0.01)


def _renewed(cluster: Cluster, outcome: ExecutionOutcome) -> None:
    _stamped(cluster.get("Certificate", "web"))
    assert outcome.report["new_not_after"] == RENEWED.isoformat()
    assert outcome.report["old_not_after"] == EXPIRING.isoformat()
    assert outcome.report["serial"] == format(2002, "x")
    assert RENEWED.isoformat() in outcome.detail


CASES = [
    Case(
        "restart-deployment",
        _kind_of("Deployment"),
        act(ActionType.RESTART, "deployment", "checkout"),
        _restarted("Deployment"),
        act(ActionType.RESTART, "deployment", "checkout"),
        "paused",
        refusal_seed=lambda: [_paused()],
        diff_shows=["+        kubectl.kubernetes.io/restartedAt: '2026-07-21T15:00:00Z'"],
    ),
    Case(
        "restart-statefulset",
        _kind_of("StatefulSet"),
        act(ActionType.RESTART, "statefulset", "checkout"),
        _restarted("StatefulSet"),
        act(ActionType.RESTART, "statefulset", "ghost"),
        "does not exist",
    ),
    Case(
        "restart-daemonset",
        _kind_of("DaemonSet"),
        act(ActionType.RESTART, "daemonset", "checkout"),
        _restarted("DaemonSet"),
        act(ActionType.RESTART, "daemonset", "ghost"),
        "does not exist",
    ),
    Case(
        "scale",
        lambda: [_checkout()],
        act(ActionType.SCALE, "deployment", "checkout", replicas=5),
        _scaled,
        act(ActionType.SCALE, "deployment", "checkout", replicas=7),
        "exceeds the maximum scale factor 2",
        diff_shows=["-  replicas: 3", "+  replicas: 5"],
    ),
    Case(
        "rollback",
        _history,
        act(ActionType.ROLLBACK, "deployment", "checkout"),
        _rolled_back,
        act(ActionType.ROLLBACK, "deployment", "checkout"),
        "no revision before",
        refusal_seed=lambda: _history()[:1] + _history()[3:4],
        diff_shows=["-        image: shop/checkout:1.5.0", "+        image: shop/checkout:1.4.2"],
    ),
    Case(
        "delete-pod",
        _pods,
        act(ActionType.DELETE_POD, "pod", "checkout-7b2e4-abcde"),
        _pod_deleted,
        act(ActionType.DELETE_POD, "pod", "lonely"),
        "no controller",
        refusal_seed=lambda: [pod("lonely")],
        diff_shows=["+++ /dev/null", "-  name: checkout-7b2e4-abcde"],
    ),
    Case(
        "raise-memory-limit",
        lambda: [_checkout()],
        act(
            ActionType.RAISE_RESOURCE_LIMIT,
            "deployment",
            "checkout",
            container="checkout",
            resource="memory",
            factor=1.5,
        ),
        _limit_raised,
        act(
            ActionType.RAISE_RESOURCE_LIMIT,
            "deployment",
            "checkout",
            container="checkout",
            resource="memory",
            limit="64Gi",
        ),
        "above the ceiling of 8Gi",
        diff_shows=["-            memory: 512Mi", "+            memory: 768Mi"],
    ),
    Case(
        "pause",
        lambda: [_checkout()],
        act(ActionType.PAUSE_ROLLOUT, "deployment", "checkout"),
        _paused_now,
        act(ActionType.PAUSE_ROLLOUT, "deployment", "checkout"),
        "no change",
        refusal_seed=lambda: [_paused()],
        diff_shows=["+  paused: true"],
    ),
    Case(
        "resume",
        lambda: [_paused()],
        act(ActionType.RESUME_ROLLOUT, "deployment", "checkout"),
        _resumed,
        act(ActionType.RESUME_ROLLOUT, "deployment", "checkout"),
        "no change",
        refusal_seed=lambda: [_checkout()],
        diff_shows=["-  paused: true", "+  paused: false"],
    ),
    Case(
        "cordon",
        lambda: [node("node-a")],
        act(ActionType.CORDON_NODE, "node", "node-a", None),
        _cordoned,
        act(ActionType.CORDON_NODE, "node", "node-a", None),
        "no change",
        refusal_seed=lambda: [_cordoned_node()],
        diff_shows=["+  unschedulable: true"],
    ),
    Case(
        "rotate-certificate",
        _certs,
        act(ActionType.ROTATE_CERTIFICATE, "certificate", "web"),
        _renewed,
        act(ActionType.ROTATE_CERTIFICATE, "certificate", "web"),
        "no change",
        refusal_seed=_issuing_cert,
        controller=fake_cert_manager,
        diff_shows=["+    reason: ManuallyTriggered", "+    type: Issuing"],
    ),
]
