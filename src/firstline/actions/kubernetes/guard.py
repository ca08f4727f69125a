"""Checks on an action before any request is made: the executor acts only on the Target it
was given, in an allowed namespace, with the parameters the action reads and no others."""

from __future__ import annotations

import re

from firstline.actions.kubernetes.resources import ACTION_KINDS, ACTION_PARAMETERS, TARGET_KINDS
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from firstline.domain.action import RemediationAction

# RFC 1123 subdomain: what Kubernetes accepts as an object or namespace name. Anything else
# ("../kube-system", "a/b") cannot name an object and is refused before it reaches a URL.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_ADDRESSING = frozenset({"namespace", "name", "kind", "target", "node", "pod", "object"})


def target_problems(action: RemediationAction, settings: KubernetesActionSettings) -> list[str]:
    """Why this executor must not act on this action at all (empty: it may go on)."""
    target = action.target
    kind = target.kind.lower()
    if action.type not in settings.actions:
        return [f"{action.type.value} is not enabled for the Kubernetes executor"]
    allowed = ACTION_KINDS.get(action.type, frozenset())
    if kind not in allowed:
        return [
            f"{action.type.value} cannot act on a {target.kind} (only {', '.join(sorted(allowed))})"
        ]
    problems: list[str] = []
    if not _NAME.match(target.name):
        problems.append(f"{target.name!r} is not a valid object name")
    if TARGET_KINDS[kind].namespaced:
        if not target.namespace:
            problems.append(f"a {kind} target needs a namespace")
        elif not _NAME.match(target.namespace):
            problems.append(f"{target.namespace!r} is not a valid namespace")
        elif settings.namespaces and target.namespace not in settings.namespaces:
            problems.append(
                f"namespace {target.namespace} is not one the executor may act in "
                f"({', '.join(settings.namespaces)})"
            )
    for name in sorted(action.parameters):
        if name.lower() in _ADDRESSING:
            problems.append(
                f"parameter {name!r} is refused: an action acts only on its target "
                f"({target}), never on an object named in its parameters"
            )
        elif name not in ACTION_PARAMETERS[action.type]:
            problems.append(f"unknown parameter {name!r} for {action.type.value}")
    return problems
