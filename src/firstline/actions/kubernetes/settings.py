"""Settings of the Kubernetes executor: which actions it may run, its bounds, and how it
reaches the cluster (the same choices as the read-only source: kubeconfig or in-cluster)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from firstline.actions.kubernetes.quantities import parse_quantity
from firstline.cluster.settings import ClusterConnection
from firstline.domain.action import ActionType

KUBERNETES_ACTIONS: tuple[ActionType, ...] = (
    ActionType.RESTART,
    ActionType.SCALE,
    ActionType.ROLLBACK,
    ActionType.DELETE_POD,
    ActionType.RAISE_RESOURCE_LIMIT,
    ActionType.PAUSE_ROLLOUT,
    ActionType.RESUME_ROLLOUT,
    ActionType.CORDON_NODE,
    ActionType.ROTATE_CERTIFICATE,
)


class RbacCheck(StrEnum):
    STRICT = "strict"
    """Refuse when the API server cannot answer a SelfSubjectAccessReview."""
    BEST_EFFORT = "best_effort"
    """Go on (with a logged note) when the API cannot answer; a clear 'denied' still refuses."""


class KubernetesActionSettings(ClusterConnection):
    """The executor: the cluster connection (its own identity) plus its bounds."""

    enabled: bool = Field(default=False, description="Carry out Kubernetes actions.")
    actions: tuple[ActionType, ...] = Field(
        default=KUBERNETES_ACTIONS,
        description="Action types this executor handles; the RBAC manifests grant exactly these.",
    )
    namespaces: tuple[str, ...] = Field(
        default=(),
        description="Namespaces actions may touch; empty means any. Nodes are cluster-wide.",
    )
    certificate_secrets: tuple[str, ...] = Field(
        default=(),
        description="TLS Secrets rotate_certificate may read (the spec.secretName of the "
        "Certificates it renews). RBAC grants get on exactly these names; none named means "
        "no Secret access, and a renewal is refused.",
    )
    min_replicas: int = Field(default=1, ge=0, description="Never scale below this.")
    max_replicas: int = Field(default=20, ge=1, description="Never scale above this.")
    max_scale_factor: float = Field(
        default=2.0, gt=1.0, description="New replicas at most this times the current count."
    )
    memory_ceiling: str = Field(default="8Gi", description="Highest memory limit ever set.")
    cpu_ceiling: str = Field(default="4", description="Highest CPU limit ever set.")
    max_limit_factor: float = Field(
        default=2.0, gt=1.0, description="A raised limit is at most this times the current one."
    )
    rbac_check: RbacCheck = Field(
        default=RbacCheck.STRICT,
        description="What preflight does when SelfSubjectAccessReview is not served.",
    )
    server_dry_run: bool = Field(
        default=True,
        description="Dry-run with dryRun=All on the API server; off computes the diff locally "
        "(for API stand-ins that would apply a dry-run write).",
    )
    certificate_wait_seconds: float = Field(
        default=120.0, ge=0, description="How long to wait for cert-manager's new certificate."
    )
    poll_interval_seconds: float = Field(default=2.0, gt=0)

    @field_validator("actions")
    @classmethod
    def _only_kubernetes_actions(cls, value: tuple[ActionType, ...]) -> tuple[ActionType, ...]:
        foreign = [a.value for a in value if a not in KUBERNETES_ACTIONS]
        if foreign:
            raise ValueError(f"not Kubernetes actions: {', '.join(foreign)}")
        return value

    @field_validator("memory_ceiling", "cpu_ceiling")
    @classmethod
    def _quantity(cls, value: str) -> str:
        if parse_quantity(value) <= 0:
            raise ValueError(f"{value!r} is not a positive quantity")
        return value
