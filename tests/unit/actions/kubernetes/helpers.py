"""Building plan contexts for the pure planners (no API server involved)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from firstline.actions.catalog import make_action
from firstline.actions.kubernetes.plan import PlanContext
from firstline.actions.kubernetes.resources import TARGET_KINDS
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from firstline.domain.action import ActionType, ParamValue, Target

NOW = datetime(2026, 7, 21, 15, 0, tzinfo=UTC)


def deployment(replicas: int = 3, memory: str | None = "512Mi", **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "shop/app:2"}
    if memory:
        container["resources"] = {"limits": {"memory": memory, "cpu": "500m"}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "shop", "uid": "u-app"},
        "spec": {
            "replicas": replicas,
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {"containers": [container]},
            },
            **spec,
        },
    }


def context(
    action_type: ActionType,
    live: dict[str, Any],
    kind: str = "deployment",
    replicasets: tuple[dict[str, Any], ...] = (),
    settings: KubernetesActionSettings | None = None,
    **params: ParamValue,
) -> PlanContext:
    action = make_action(
        action_type,
        Target(kind=kind, name="app", namespace="shop"),
        rationale="unit",
        parameters=params,
    )
    return PlanContext(
        action=action,
        resource=TARGET_KINDS[kind],
        live=live,
        settings=settings or KubernetesActionSettings(),
        now=NOW,
        replicasets=replicasets,
    )
