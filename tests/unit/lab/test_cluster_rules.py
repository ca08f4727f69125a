"""The lab cluster's pure rules: strategic merge as a merge patch, images to programs,
pod-template hashes, and the Deployment's conditions."""

from __future__ import annotations

import pytest

from firstline.lab.cluster import workloads as wl
from firstline.lab.cluster.api import as_merge_patch
from firstline.lab.cluster.kubelet import ImageError, image_argv

CONTAINERS = [
    {"name": "app", "image": "lab/app:v1", "env": [{"name": "A", "value": "1"}]},
    {"name": "sidecar", "image": "lab/proxy:v1"},
]


def test_a_strategic_patch_merges_named_containers_and_keeps_the_rest() -> None:
    current = {"spec": {"containers": CONTAINERS, "paused": True}}
    patch = {"spec": {"containers": [{"name": "app", "image": "lab/app:v2"}], "paused": None}}

    merge = as_merge_patch(current, patch)

    assert merge == {
        "spec": {
            "containers": [
                {"name": "app", "image": "lab/app:v2", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "lab/proxy:v1"},
            ],
            "paused": None,
        }
    }


def test_a_strategic_patch_adds_a_new_named_item_after_the_old_ones() -> None:
    merge = as_merge_patch(
        {"env": [{"name": "A", "value": "1"}]}, {"env": [{"name": "B", "value": "2"}]}
    )
    assert merge == {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}


def test_an_image_runs_the_command_of_its_longest_prefix_with_its_tag() -> None:
    commands = {"lab/": "python -m shop", "lab/special/": "/bin/special --flag"}
    assert image_argv("lab/checkout:v2", commands) == (["python", "-m", "shop", "checkout"], "v2")
    assert image_argv("lab/special/x", commands) == (["/bin/special", "--flag", "x"], "latest")
    with pytest.raises(ImageError):
        image_argv("docker.io/nginx:1", commands)


def test_equal_templates_hash_alike_whatever_their_key_order_or_hash_label() -> None:
    one = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": CONTAINERS}}
    same = {
        "spec": {"containers": CONTAINERS},
        "metadata": {"labels": {"pod-template-hash": "x", "app": "a"}},
    }
    other = {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": CONTAINERS}}
    assert wl.template_hash(one) == wl.template_hash(same) != wl.template_hash(other)


def _rollout(**counts: object) -> wl.Rollout:
    base: dict[str, object] = {
        "desired": 1, "total": 1, "updated": 1, "ready": 1, "new_ready": 1,
        "old_pods": 0, "new_replicaset": "web-abc", "paused": False,
    }  # fmt: skip
    return wl.Rollout(**{**base, **counts})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rollout", "timed_out", "progressing"),
    [
        (_rollout(), False, ("True", "NewReplicaSetAvailable")),
        (_rollout(total=2, old_pods=1, new_ready=0), False, ("True", "ReplicaSetUpdated")),
        (_rollout(total=2, old_pods=1, new_ready=0), True, ("False", "ProgressDeadlineExceeded")),
        (_rollout(paused=True), False, ("Unknown", "DeploymentPaused")),
    ],
)
def test_the_progressing_condition(
    rollout: wl.Rollout, timed_out: bool, progressing: tuple[str, str]
) -> None:
    deployment = {"metadata": {"name": "web", "generation": 4}}
    status = wl.deployment_status(deployment, rollout, "2026-01-01T00:00:00Z", timed_out, {})
    condition = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (condition["status"], condition["reason"]) == progressing
    assert status["observedGeneration"] == 4


def test_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    deployment = {"metadata": {"name": "web"}}
    first = wl.deployment_status(deployment, _rollout(), "2026-01-01T00:00:00Z", False, {})
    later = wl.deployment_status(deployment, _rollout(), "2026-01-01T00:05:00Z", False, first)
    (available, _) = later["conditions"]
    assert available["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    lost = wl.deployment_status(deployment, _rollout(ready=0), "2026-01-01T00:09:00Z", False, later)
    assert lost["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:09:00Z"
    assert lost["unavailableReplicas"] == 1
