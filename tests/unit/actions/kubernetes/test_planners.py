"""The planners: pure functions from a live object to the change, its bounds and its undo."""

from __future__ import annotations

import pytest

from firstline.actions.kubernetes.cluster import plan_cordon, plan_delete_pod
from firstline.actions.kubernetes.rollback import plan_rollback
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from firstline.actions.kubernetes.workloads import (
    plan_pause,
    plan_raise_limit,
    plan_restart,
    plan_scale,
)
from firstline.domain.action import ActionType
from tests.unit.actions.kubernetes.helpers import context, deployment


@pytest.mark.parametrize(
    ("current", "wanted", "problem"),
    [
        (3, 0, "0 replicas is below the minimum of 1"),
        (15, 25, "25 replicas is above the maximum of 20"),
        (3, 7, "3 -> 7 replicas exceeds the maximum scale factor 2"),
        (3, "six", "parameter replicas must be a whole number, got 'six'"),
        (3, True, "parameter replicas must be a whole number, got True"),
    ],
)
def test_scale_bounds(current: int, wanted: int | str | bool, problem: str) -> None:
    plan = plan_scale(context(ActionType.SCALE, deployment(current), replicas=wanted))
    assert plan.problems == [problem]


def test_scale_down_within_bounds_records_the_way_back() -> None:
    plan = plan_scale(context(ActionType.SCALE, deployment(6), replicas=3))
    assert plan.problems == [] and plan.after is not None
    assert plan.after["spec"]["replicas"] == 3
    assert plan.undo is not None and plan.undo.parameters == {"replicas": 6}


def test_scaling_to_the_current_count_changes_nothing() -> None:
    assert plan_scale(context(ActionType.SCALE, deployment(3), replicas=3)).no_change


@pytest.mark.parametrize(
    ("params", "after", "problem"),
    [
        ({"resource": "memory", "factor": 1.5}, "768Mi", None),
        ({"resource": "memory", "factor": 1.3}, "666Mi", None),  # 665.6 rounds up
        ({"resource": "memory", "limit": "1Gi"}, "1Gi", None),
        ({"resource": "cpu", "factor": 2}, "1", None),
        ({"resource": "cpu", "limit": "750m"}, "750m", None),
        ({"resource": "memory", "limit": "256Mi"}, None, "would lower the memory limit"),
        ({"resource": "memory", "limit": "9Gi"}, None, "above the ceiling of 8Gi"),
        ({"resource": "memory", "factor": 3}, None, "more than 2 times the current limit"),
        ({"resource": "memory", "limit": "1Gi", "factor": 2}, None, "exactly one of"),
        ({"resource": "disk", "factor": 2}, None, "must be memory or cpu"),
        ({"resource": "memory", "limit": "lots"}, None, "not a memory quantity"),
        ({"resource": "memory", "factor": 2, "container": "sidecar"}, None, "no container named"),
    ],
)
def test_raise_limit(
    params: dict[str, str | float], after: str | None, problem: str | None
) -> None:
    plan = plan_raise_limit(context(ActionType.RAISE_RESOURCE_LIMIT, deployment(), **params))
    if problem is not None:
        assert any(problem in p for p in plan.problems), plan.problems
        return
    assert plan.problems == [] and plan.after is not None
    limits = plan.after["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits[str(params["resource"])] == after


def test_raising_a_limit_that_does_not_exist_is_refused() -> None:
    plan = plan_raise_limit(
        context(
            ActionType.RAISE_RESOURCE_LIMIT, deployment(memory=None), resource="memory", factor=2
        )
    )
    assert plan.problems == ["container app has no memory limit; setting one would lower it"]


def test_restore_may_lower_a_limit_but_not_past_the_ceiling() -> None:
    live = deployment(memory="768Mi")
    restore = plan_raise_limit(
        context(
            ActionType.RAISE_RESOURCE_LIMIT, live, resource="memory", limit="512Mi", restore=True
        )
    )
    assert restore.problems == [] and not restore.no_change
    settings = KubernetesActionSettings(memory_ceiling="512Mi")
    beyond = plan_raise_limit(
        context(
            ActionType.RAISE_RESOURCE_LIMIT,
            live,
            settings=settings,
            resource="memory",
            limit="600Mi",
            restore=True,
        )
    )
    assert beyond.problems == ["memory limit above the ceiling of 512Mi"]


def test_restart_sets_the_annotation_kubectl_sets() -> None:
    plan = plan_restart(context(ActionType.RESTART, deployment()))
    assert plan.after is not None
    annotations = plan.after["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"kubectl.kubernetes.io/restartedAt": "2026-07-21T15:00:00Z"}


def test_pause_of_a_paused_rollout_changes_nothing() -> None:
    assert plan_pause(context(ActionType.PAUSE_ROLLOUT, deployment(paused=True)), True).no_change
    assert plan_pause(context(ActionType.RESUME_ROLLOUT, deployment()), False).no_change


def _rs(revision: int, image: str, owner_uid: str = "u-app") -> dict[str, object]:
    return {
        "metadata": {
            "name": f"app-{revision}",
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [
                {"kind": "Deployment", "name": "app", "uid": owner_uid, "controller": True}
            ],
        },
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "app", "pod-template-hash": f"h{revision}"}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            }
        },
    }


def test_rollback_picks_the_revision_before_the_current_one_of_this_deployment() -> None:
    live = deployment(memory=None)
    history = (_rs(1, "shop/app:1"), _rs(2, "shop/app:2"), _rs(5, "x", owner_uid="other"))
    plan = plan_rollback(context(ActionType.ROLLBACK, live, replicasets=history))
    assert plan.problems == [] and plan.after is not None
    assert plan.after["spec"]["template"] == {
        "metadata": {"labels": {"app": "app"}},
        "spec": {"containers": [{"name": "app", "image": "shop/app:1"}]},
    }
    assert plan.report == {"from_revision": 2, "to_revision": 1, "replicaset": "app-1"}


def test_rollback_to_a_template_already_live_changes_nothing() -> None:
    live = deployment(memory=None)
    history = (_rs(1, "shop/app:2"), _rs(2, "shop/app:3"))
    live["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    plan = plan_rollback(context(ActionType.ROLLBACK, live, replicasets=history))
    assert plan.problems == [] and plan.no_change


def test_rollback_to_an_unknown_revision_is_refused() -> None:
    history = (_rs(1, "a"), _rs(2, "b"))
    plan = plan_rollback(
        context(ActionType.ROLLBACK, deployment(), replicasets=history, to_revision=9)
    )
    assert plan.problems == ["revision 9 not found (known: [1, 2])"]


def test_a_terminating_pod_is_no_change_and_a_bare_pod_is_refused() -> None:
    owned = {
        "metadata": {
            "name": "p",
            "deletionTimestamp": "t",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "r", "controller": True}],
        }
    }
    assert plan_delete_pod(context(ActionType.DELETE_POD, owned, kind="pod")).no_change
    bare = {"metadata": {"name": "p"}}
    assert plan_delete_pod(context(ActionType.DELETE_POD, bare, kind="pod")).problems


def test_uncordon_is_the_undo_of_cordon_and_back() -> None:
    node = {"metadata": {"name": "n"}, "spec": {"unschedulable": True}}
    uncordon = plan_cordon(context(ActionType.CORDON_NODE, node, kind="node", uncordon=True))
    assert uncordon.after is not None and uncordon.after["spec"]["unschedulable"] is False
    assert uncordon.undo is not None and uncordon.undo.parameters == {}
    assert plan_cordon(context(ActionType.CORDON_NODE, node, kind="node")).no_change
