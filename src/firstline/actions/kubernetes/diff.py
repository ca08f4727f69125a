"""JSON merge patches (RFC 7386) between two objects, and the YAML diff shown to approvers.

Every write is a merge patch: a real API server and kmock apply it the same way, which a
strategic merge patch would not. Lists are replaced whole, so a patch that touches one
container carries the full container list (guarded by the object's resourceVersion).
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

import yaml

Obj = dict[str, Any]

_NOISY_METADATA = (
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
)


def merge_patch_between(before: Obj, after: Obj) -> Obj:
    """The smallest merge patch that turns `before` into `after` (removed keys become null)."""
    patch: Obj = {}
    for key in before.keys() - after.keys():
        patch[key] = None
    for key, value in after.items():
        old = before.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            nested = merge_patch_between(old, value)
            if nested:
                patch[key] = nested
        elif key not in before or old != value:
            patch[key] = copy.deepcopy(value)
    return patch


def apply_merge_patch(target: Obj, patch: Obj) -> Obj:
    """What the API server makes of `target` under `patch` (a new object; inputs untouched)."""
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            base = result.get(key)
            result[key] = apply_merge_patch(base if isinstance(base, dict) else {}, value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def comparable(obj: Obj) -> Obj:
    """The object as a person reviews a change: no status, no server bookkeeping."""
    shown = {k: copy.deepcopy(v) for k, v in obj.items() if k != "status"}
    meta = shown.get("metadata")
    if isinstance(meta, dict):
        for key in _NOISY_METADATA:
            meta.pop(key, None)
    return shown


def yaml_diff(label: str, before: Obj | None, after: Obj | None) -> str:
    """A unified diff of two YAML renderings; `None` stands for an absent object."""

    def lines(obj: Obj | None) -> list[str]:
        if obj is None:
            return []
        return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False).splitlines()

    diff = difflib.unified_diff(
        lines(before),
        lines(after),
        fromfile=f"{label} (live)" if before is not None else "/dev/null",
        tofile=f"{label} (after)" if after is not None else "/dev/null",
        lineterm="",
        n=3,
    )
    return "\n".join(diff)
