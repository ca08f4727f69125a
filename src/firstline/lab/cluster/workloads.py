"""What the Deployment and ReplicaSet controllers decide, as plain functions on the API's
JSON objects: the pod-template hash, ReplicaSet and pod names, revisions, ownership, and the
Deployment's status and conditions."""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# the alphabet Kubernetes draws generated name suffixes from (no vowels: no words by chance)
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
DEFAULT_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 30.0  # lab-sized; a cluster's default is 600


def meta(obj: Obj) -> Obj:
    found = obj.get("metadata")
    return found if isinstance(found, dict) else {}


def spec(obj: Obj) -> Obj:
    found = obj.get("spec")
    return found if isinstance(found, dict) else {}


def annotations_of(obj: Obj) -> dict[str, str]:
    found = meta(obj).get("annotations")
    return found if isinstance(found, dict) else {}


def template_hash(template: Obj) -> str:
    """Stable for equal templates (key order aside), so a rollback to an old template finds
    the old ReplicaSet again, as the real controller does."""
    body = json.dumps(without_hash(template), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(body.encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:10])


def without_hash(template: Obj) -> Obj:
    cleaned = copy.deepcopy(template)
    labels = (cleaned.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(TEMPLATE_HASH, None)
    return cleaned


def name_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(length))


def revision(obj: Obj) -> int:
    try:
        return int(annotations_of(obj).get(REVISION, "0"))
    except ValueError:
        return 0


def owner_reference(owner: Obj) -> Obj:
    return {
        "apiVersion": owner.get("apiVersion", "apps/v1"),
        "kind": owner["kind"],
        "name": meta(owner)["name"],
        "uid": meta(owner).get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controlled_by(obj: Obj, owner: Obj) -> bool:
    for ref in meta(obj).get("ownerReferences") or []:
        same_uid = ref.get("uid") == meta(owner).get("uid") or not ref.get("uid")
        if ref.get("controller") and ref.get("kind") == owner.get("kind") and same_uid:
            return bool(ref.get("name") == meta(owner).get("name"))
    return False


def new_replicaset(deployment: Obj, hash_: str, number: int, stamp: str) -> Obj:
    template = copy.deepcopy(spec(deployment).get("template") or {})
    template.setdefault("metadata", {}).setdefault("labels", {})[TEMPLATE_HASH] = hash_
    selector = copy.deepcopy(spec(deployment).get("selector") or {})
    selector.setdefault("matchLabels", {})[TEMPLATE_HASH] = hash_
    dmeta = meta(deployment)
    notes = {REVISION: str(number)}
    if CHANGE_CAUSE in annotations_of(deployment):
        notes[CHANGE_CAUSE] = annotations_of(deployment)[CHANGE_CAUSE]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{dmeta['name']}-{hash_}",
            "namespace": dmeta.get("namespace"),
            "uid": "",  # set by the caller, as the API server would on create
            "creationTimestamp": stamp,
            "generation": 1,
            "labels": dict(template["metadata"]["labels"]),
            "annotations": notes,
            "ownerReferences": [owner_reference(deployment)],
        },
        "spec": {"replicas": 0, "selector": selector, "template": template},
        "status": {"replicas": 0, "observedGeneration": 1},
    }


def new_pod(replicaset: Obj, name: str, uid: str, stamp: str, node: str) -> Obj:
    template = copy.deepcopy(spec(replicaset).get("template") or {})
    tmeta = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": meta(replicaset).get("namespace"),
            "uid": uid,
            "creationTimestamp": stamp,
            "labels": dict(tmeta.get("labels") or {}),
            "annotations": dict(tmeta.get("annotations") or {}),
            "ownerReferences": [owner_reference(replicaset)],
        },
        "spec": {**(template.get("spec") or {}), "nodeName": node},
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    }


@dataclass(frozen=True)
class Rollout:
    """How far one Deployment is, counted over its pods."""

    desired: int
    total: int  # pods of every ReplicaSet it controls
    updated: int  # pods of the ReplicaSet of the current template
    ready: int
    new_ready: int
    old_pods: int
    new_replicaset: str | None
    paused: bool


def _condition(kind: str, status: str, reason: str, message: str, now: str, since: str) -> Obj:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": now,
        "lastTransitionTime": since,
    }


def deployment_status(
    deployment: Obj, rollout: Rollout, progress_at: str, timed_out: bool, old: Obj
) -> Obj:
    """The status the Deployment controller writes; transition times kept from `old` when
    a condition's status did not change."""
    available = rollout.ready
    previous = {c.get("type"): c for c in old.get("conditions") or [] if isinstance(c, dict)}

    def since(kind: str, status: str, at: str) -> str:
        before = previous.get(kind)
        if before and before.get("status") == status:
            return str(before.get("lastTransitionTime") or at)
        return at

    if available >= rollout.desired:
        avail = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    else:
        avail = (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    rs = rollout.new_replicaset or meta(deployment).get("name")
    complete = (
        rollout.updated == rollout.desired
        and rollout.new_ready == rollout.desired
        and rollout.old_pods == 0
    )
    if rollout.paused:
        progress = ("Unknown", "DeploymentPaused", "Deployment is paused")
    elif complete:
        progress = (
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{rs}" has successfully progressed.',
        )
    elif timed_out:
        progress = (
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{rs}" has timed out progressing.',
        )
    else:
        progress = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs}" is progressing.')
    avail_update = str((previous.get("Available") or {}).get("lastUpdateTime") or progress_at)
    if (previous.get("Available") or {}).get("status") != avail[0]:
        avail_update = progress_at
    return {
        "observedGeneration": int(meta(deployment).get("generation") or 1),
        "replicas": rollout.total,
        "updatedReplicas": rollout.updated,
        "readyReplicas": rollout.ready,
        "availableReplicas": available,
        "unavailableReplicas": max(0, rollout.desired - available),
        "conditions": [
            {
                **_condition(
                    "Available", *avail, avail_update, since("Available", avail[0], progress_at)
                ),
            },
            _condition(
                "Progressing",
                *progress,
                progress_at,
                since("Progressing", progress[0], progress_at),
            ),
        ],
    }


def progress_deadline(deployment: Obj) -> float:
    value = spec(deployment).get("progressDeadlineSeconds")
    return float(value) if isinstance(value, int | float) else DEFAULT_PROGRESS_DEADLINE_SECONDS


def history_limit(deployment: Obj) -> int:
    value = spec(deployment).get("revisionHistoryLimit")
    return int(value) if isinstance(value, int) else DEFAULT_HISTORY_LIMIT


def recreates(deployment: Obj) -> bool:
    """Strategy Recreate: old pods stop before new ones start (a pod that must own its port
    alone); RollingUpdate (the default) starts the new pod first."""
    return (spec(deployment).get("strategy") or {}).get("type") == "Recreate"
