"""Rollout history from ReplicaSets, and the rollouts inside the incident window as changes.

A Deployment keeps one ReplicaSet per pod template it has run (up to its
revisionHistoryLimit); the Deployment controller stamps each with the revision number and
copies the Deployment's change-cause onto it. So the history is: the ReplicaSets whose
controller owner reference is the Deployment, ordered by revision.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from firstline.domain.evidence import ChangeRecord, Condition, ContainerSpec, Deployment, Revision
from firstline.sources.kubernetes.wire import (
    Container,
    DeploymentObject,
    EnvFromSource,
    EnvVar,
    ReplicaSetObject,
)

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
CHANGE_CAUSE = "kubernetes.io/change-cause"
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIAL", re.I)
ENV_FROM = "(envFrom)"
"""Key under which a container's envFrom sources appear in ContainerSpec.env, so a swapped
ConfigMap or Secret shows up in the config diff like any variable. Not a valid env name."""


@dataclass(frozen=True)
class Step:
    """One revision and the ReplicaSet behind it."""

    revision: Revision
    replicaset: str
    rollback: bool = False
    earlier_numbers: tuple[int, ...] = ()
    """Revision numbers this ReplicaSet held before a rollback re-stamped it."""


def _env_value(var: EnvVar) -> str:
    """Literal values as they are, except where the name says secret; references by what
    they point at (Secret values are never read, only their names)."""
    if var.value is not None or var.value_from is None:
        value = var.value or ""
        if value and _SECRET_NAME.search(var.name):
            # Evidence reaches reports and possibly a hosted model. The digest still shows
            # whether the value changed between revisions.
            return f"<redacted {hashlib.sha256(value.encode()).hexdigest()[:8]}>"
        return value
    src = var.value_from
    if src.config_map_key_ref is not None:
        return f"<configmap {src.config_map_key_ref.name}/{src.config_map_key_ref.key}>"
    if src.secret_key_ref is not None:
        return f"<secret {src.secret_key_ref.name}/{src.secret_key_ref.key}>"
    if src.field_ref is not None:
        return f"<field {src.field_ref.field_path}>"
    if src.resource_field_ref is not None:
        return f"<resource {src.resource_field_ref.resource}>"
    return "<reference>"


def _env_source(source: EnvFromSource) -> str:
    if source.config_map_ref is not None:
        what = f"configmap/{source.config_map_ref.name}"
    elif source.secret_ref is not None:
        what = f"secret/{source.secret_ref.name}"
    else:
        what = "unknown source"
    return f"{what} (prefix {source.prefix})" if source.prefix else what


def container_spec(container: Container) -> ContainerSpec:
    env = {v.name: _env_value(v) for v in container.env}
    sources = [_env_source(s) for s in container.env_from]
    if sources:
        env[ENV_FROM] = ", ".join(sources)
    limits = container.resources.limits
    return ContainerSpec(
        name=container.name,
        image=container.image,
        env=env,
        memory_limit=limits.get("memory"),
        cpu_limit=limits.get("cpu"),
    )


def owns(deployment: DeploymentObject, replicaset: ReplicaSetObject) -> bool:
    """By owner reference, never by labels: a canary or a hand-made ReplicaSet can carry the
    same labels without being part of this Deployment's history."""
    ref = replicaset.metadata.controller()
    if ref is None or ref.kind != "Deployment":
        return False
    if ref.uid and deployment.metadata.uid:
        return ref.uid == deployment.metadata.uid
    return (
        ref.name == deployment.metadata.name
        and replicaset.metadata.namespace == deployment.metadata.namespace
    )


def _revision_number(replicaset: ReplicaSetObject) -> int | None:
    try:
        return int(replicaset.metadata.annotations.get(REVISION, ""))
    except ValueError:
        return None


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split(",") if n.strip().isdigit())


def _progressed_at(deployment: DeploymentObject) -> datetime | None:
    progressing = next((c for c in deployment.status.conditions if c.type == "Progressing"), None)
    return progressing.last_update_time if progressing else None


def history(deployment: DeploymentObject, replicasets: Iterable[ReplicaSetObject]) -> list[Step]:
    """Every kept revision of the Deployment, oldest first.

    A rollback (`kubectl rollout undo`) does not create a ReplicaSet: it re-stamps an old one
    with a new revision number, so that ReplicaSet's creation time is the old rollout's. The
    newest revision then dates from the Deployment's last progress instead (the Progressing
    condition's lastUpdateTime, set when that rollout moved), which is when it rolled out.
    """
    owned = [
        (number, rs)
        for rs in replicasets
        if owns(deployment, rs) and (number := _revision_number(rs)) is not None
    ]
    owned.sort(key=lambda pair: pair[0])
    created = [rs.metadata.creation_timestamp for _, rs in owned]
    progressed = _progressed_at(deployment)
    steps: list[Step] = []
    for index, (number, rs) in enumerate(owned):
        at = rs.metadata.creation_timestamp
        older_than_before = at is not None and any(
            c is not None and c > at for c in created[:index]
        )
        rollback = older_than_before or REVISION_HISTORY in rs.metadata.annotations
        if rollback and index == len(owned) - 1 and progressed is not None:
            at = max(at, progressed) if at is not None else progressed
        if at is None:
            continue  # cannot be placed in time; an API server always sets it
        revision = Revision(
            revision=number,
            created_at=at,
            change_cause=rs.metadata.annotations.get(CHANGE_CAUSE),
            containers=[container_spec(c) for c in rs.spec.template.spec.containers],
        )
        earlier = _numbers(rs.metadata.annotations.get(REVISION_HISTORY, ""))
        steps.append(Step(revision, rs.metadata.name, rollback, earlier))
    return steps


def to_deployment(deployment: DeploymentObject, steps: Sequence[Step], limit: int) -> Deployment:
    spec_replicas = deployment.spec.replicas
    return Deployment(
        name=deployment.metadata.name,
        namespace=deployment.metadata.namespace or "",
        replicas=spec_replicas if spec_replicas is not None else 1,  # the API's default
        ready_replicas=deployment.status.ready_replicas or 0,
        updated_replicas=deployment.status.updated_replicas,
        unavailable_replicas=deployment.status.unavailable_replicas,
        conditions=[
            Condition(type=c.type, status=c.status, reason=c.reason, message=c.message)
            for c in deployment.status.conditions
        ],
        revisions=[s.revision for s in steps[-limit:]],
    )


# -- changes -------------------------------------------------------------------------------


def _repository(image: str) -> str:
    if "@" in image:
        return image.split("@", 1)[0]
    slash, colon = image.rfind("/"), image.rfind(":")
    return image[:colon] if colon > slash else image


def image_change(old: str, new: str) -> str:
    """'shop/checkout:1.4.2 -> 1.5.0' when only the tag moved, else both in full."""
    repo = _repository(new)
    if repo == _repository(old) and new != repo:
        return f"{old} -> {new[len(repo) + 1 :]}"
    return f"{old} -> {new}"


def _unset(value: str | None) -> str:
    return "(unset)" if value is None else value


def _container_diff(
    old: ContainerSpec, new: ContainerSpec, label: str, details: dict[str, str]
) -> list[str]:
    parts: list[str] = []
    name = new.name
    if old.image != new.image:
        details[f"image {name}"] = f"{old.image} -> {new.image}"
        parts.append(f"image {label}{image_change(old.image, new.image)}")
    keys = old.env.keys() | new.env.keys()
    changed = sorted(k for k in keys if old.env.get(k) != new.env.get(k))
    for key in changed:
        details[f"env {name}.{key}"] = f"{_unset(old.env.get(key))} -> {_unset(new.env.get(key))}"
    if changed:
        parts.append(f"env {label}{', '.join(changed)} changed")
    for title, was, now in (
        ("memory limit", old.memory_limit, new.memory_limit),
        ("cpu limit", old.cpu_limit, new.cpu_limit),
    ):
        if was != now:
            details[f"{title.replace(' ', '_')} {name}"] = f"{_unset(was)} -> {_unset(now)}"
            parts.append(f"{title} {label}{_unset(was)} -> {_unset(now)}")
    return parts


def diff(previous: Revision, current: Revision) -> tuple[list[str], dict[str, str]]:
    """What changed between two revisions' pod templates: a few short phrases for the
    summary, and every difference in the details."""
    parts: list[str] = []
    details: dict[str, str] = {}
    before = {c.name: c for c in previous.containers}
    after = {c.name: c for c in current.containers}
    several = len(before.keys() | after.keys()) > 1
    for name, new in after.items():
        old = before.get(name)
        if old is None:
            details[f"container {name}"] = f"added ({new.image})"
            parts.append(f"container {name} added")
        else:
            parts.extend(_container_diff(old, new, f"{name} " if several else "", details))
    for name, old in before.items():
        if name not in after:
            details[f"container {name}"] = f"removed ({old.image})"
            parts.append(f"container {name} removed")
    return parts, details


def relative(at: datetime, reference: datetime) -> str:
    seconds = (reference - at).total_seconds()
    side = "before" if seconds >= 0 else "after"
    minutes = round(abs(seconds) / 60)
    if minutes < 1:
        return f"less than a minute {side} the alert"
    if minutes < 120:
        return f"{minutes} min {side} the alert"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min {side} the alert" if rest else f"{hours} h {side} the alert"


def _predecessor(steps: Sequence[Step], step: Step) -> tuple[int, Revision] | None:
    """The template that ran just before `step`'s revision, and the number it had then. A
    rollback moves an old ReplicaSet to a new number, so the revision before N may now live
    under a higher number; the revision-history annotation keeps its old one."""
    target = step.revision.revision
    held = [
        (number, other.revision)
        for other in steps
        if other is not step
        for number in (other.revision.revision, *other.earlier_numbers)
        if number < target
    ]
    return max(held, key=lambda pair: pair[0], default=None)


def rollout_changes(
    deployment: DeploymentObject,
    steps: Sequence[Step],
    start: datetime,
    end: datetime,
    alert_at: datetime,
) -> list[ChangeRecord]:
    """One record per revision rolled out inside [start, end], diffed against the revision
    before it (which may itself be older than the window)."""
    namespace, name = deployment.metadata.namespace or "", deployment.metadata.name
    records: list[ChangeRecord] = []
    for step in steps:
        current = step.revision
        if not start <= current.created_at <= end:
            continue
        found = _predecessor(steps, step)
        details = {"revision": str(current.revision), "replicaset": step.replicaset}
        if current.change_cause:
            details["change_cause"] = current.change_cause
        if step.rollback:
            details["rollback"] = "true"
        if found is not None:
            number, previous = found
            details["previous_revision"] = str(number)
            parts, changes = diff(previous, current)
            details.update(changes)
            what = "; ".join(parts) or "pod template changed (no image, env or limit difference)"
        elif current.revision == 1:
            images = ", ".join(c.image for c in current.containers)
            what = f"first revision, image {images}" if images else "first revision"
        else:
            what = "the previous revision is no longer kept, so no diff"
        verb = "rolled back to" if step.rollback else "rolled to"
        when = relative(current.created_at, alert_at)
        records.append(
            ChangeRecord(
                at=current.created_at,
                object=f"deployment/{namespace}/{name}",
                kind="rollout",
                summary=f"deployment {namespace}/{name} {verb} revision {current.revision}: "
                f"{what}, {when}",
                details=details,
            )
        )
    return records
