"""The executor acts only on the Target it is given, refuses what RBAC would refuse, and
never lets a dry-run through unnoticed. Against kmock's emulator (a stand-in API server; see
emulator.py for the dry-run and access-review behaviour it adds)."""

from __future__ import annotations

from typing import Any

import pytest

from firstline.actions.base import Reconciliation
from firstline.domain.action import ActionType, RemediationAction
from tests.integration.actions.kubernetes.cases import KEY, act
from tests.integration.actions.kubernetes.conftest import Cluster, MakeExecutor, authorizer_denying
from tests.integration.kubernetes.objects import deployment

pytestmark = pytest.mark.integration


def seed(cluster: Cluster) -> None:
    cluster.add(deployment("checkout"), deployment("checkout", "kube-system"))


async def assert_refused_untouched(
    cluster: Cluster, make_executor: MakeExecutor, action: RemediationAction, reason: str
) -> None:
    before = cluster.snapshot()
    executor = make_executor(namespaces=("shop",))
    preflight = await executor.preflight(action)
    assert not preflight.ok
    assert any(reason in p for p in preflight.problems), preflight.problems
    outcome = await executor.execute(action, KEY)
    assert not outcome.ok and reason in outcome.detail
    assert (await executor.dry_run(action)).startswith("would not ")
    assert cluster.snapshot() == before
    assert cluster.emulator.seen == []  # refused before a single request


@pytest.mark.parametrize(
    ("parameters", "reason"),
    [
        ({"replicas": 4, "namespace": "kube-system"}, "parameter 'namespace' is refused"),
        ({"replicas": 4, "name": "coredns"}, "parameter 'name' is refused"),
        ({"replicas": 4, "Namespace": "kube-system"}, "parameter 'Namespace' is refused"),
        ({"replicas": 4, "target": "deployment/kube-system/coredns"}, "is refused"),
        ({"replicas": 4, "selector": "app=coredns"}, "unknown parameter 'selector'"),
    ],
)
async def test_parameters_cannot_point_elsewhere(
    cluster: Cluster, make_executor: MakeExecutor, parameters: dict[str, Any], reason: str
) -> None:
    seed(cluster)
    action = act(ActionType.SCALE, "deployment", "checkout", **parameters)
    await assert_refused_untouched(cluster, make_executor, action, reason)


@pytest.mark.parametrize(
    ("namespace", "name", "reason"),
    [
        ("kube-system", "checkout", "namespace kube-system is not one the executor may act in"),
        ("../kube-system", "checkout", "is not a valid namespace"),
        ("shop", "../../kube-system/deployments/coredns", "is not a valid object name"),
        (None, "checkout", "a deployment target needs a namespace"),
    ],
)
async def test_targets_outside_the_allowed_namespaces_are_refused(
    cluster: Cluster, make_executor: MakeExecutor, namespace: str | None, name: str, reason: str
) -> None:
    seed(cluster)
    action = act(ActionType.SCALE, "deployment", name, namespace, replicas=4)
    await assert_refused_untouched(cluster, make_executor, action, reason)


async def test_an_action_on_the_wrong_kind_is_refused(
    cluster: Cluster, make_executor: MakeExecutor
) -> None:
    seed(cluster)
    action = act(ActionType.DELETE_POD, "deployment", "checkout")
    await assert_refused_untouched(cluster, make_executor, action, "cannot act on a deployment")


async def test_an_action_not_enabled_is_refused(
    cluster: Cluster, make_executor: MakeExecutor
) -> None:
    seed(cluster)
    executor = make_executor(actions=(ActionType.RESTART,))
    action = act(ActionType.SCALE, "deployment", "checkout", replicas=4)
    assert not executor.supports(ActionType.SCALE) and executor.supports(ActionType.RESTART)
    preflight = await executor.preflight(action)
    assert preflight.problems == ["scale is not enabled for the Kubernetes executor"]
    reconciled = await executor.reconcile(action, KEY)
    assert reconciled.state is Reconciliation.NOT_APPLIED


@pytest.mark.parametrize(
    "emulator_options",
    [{"honour_dry_run": True, "authorizer": authorizer_denying("patch", "deployments")}],
)
@pytest.mark.parametrize("mode", ["strict", "best_effort"])
async def test_rbac_denial_refuses_in_both_modes(
    cluster: Cluster, make_executor: MakeExecutor, mode: str
) -> None:
    seed(cluster)
    action = act(ActionType.SCALE, "deployment", "checkout", replicas=4)
    preflight = await make_executor(rbac_check=mode).preflight(action)
    assert not preflight.ok
    assert preflight.problems == [
        "RBAC: firstline may not patch deployments in shop (no RBAC policy matched)"
    ]
    reviewed = [s for s in cluster.emulator.seen if s[2] == "selfsubjectaccessreviews"]
    assert len(reviewed) == 2  # get and patch deployments, one review each


@pytest.mark.parametrize(
    "emulator_options",
    [{"honour_dry_run": True, "authorizer": None}, {"honour_dry_run": True, "authorizer": "kmock"}],
    ids=["404", "kmock-stores-reviews"],
)
async def test_rbac_that_cannot_be_verified(cluster: Cluster, make_executor: MakeExecutor) -> None:
    seed(cluster)
    action = act(ActionType.SCALE, "deployment", "checkout", replicas=4)

    strict = await make_executor(rbac_check="strict").preflight(action)
    best_effort = await make_executor(rbac_check="best_effort").preflight(action)

    assert not strict.ok
    assert strict.problems[0] == (
        "could not verify RBAC for get deployments in shop: SelfSubjectAccessReview not "
        "answered (rbac_check is strict)"
    )
    assert (best_effort.ok, best_effort.problems) == (True, [])


@pytest.mark.parametrize("emulator_options", [{"honour_dry_run": False, "authorizer": "kmock"}])
async def test_a_server_that_ignores_dry_run_is_called_out(
    cluster: Cluster, make_executor: MakeExecutor
) -> None:
    """Plain kmock stores a dry-run write, as a server without dry-run support would."""
    seed(cluster)
    action = act(ActionType.SCALE, "deployment", "checkout", replicas=4)

    text = await make_executor().dry_run(action)

    assert "WARNING: the object changed during the dry-run" in text
    assert "Set server_dry_run: false" in text


async def test_a_pod_is_deleted_only_with_its_uid_as_precondition(
    cluster: Cluster, make_executor: MakeExecutor
) -> None:
    """The delete names the uid read in preflight, so a same-named replacement survives."""
    from tests.integration.actions.kubernetes.cases import _pods

    cluster.add(*_pods())
    action = act(ActionType.DELETE_POD, "pod", "checkout-7b2e4-abcde")
    outcome = await make_executor().execute(action, KEY)
    assert outcome.ok
    (delete,) = [r for r in cluster.emulator if r.method.value.upper() == "DELETE"]
    assert delete.data["preconditions"] == {"uid": "uid-shop-checkout-7b2e4-abcde"}
