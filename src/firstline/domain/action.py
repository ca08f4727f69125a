"""Remediation actions: a closed catalog of types, each with a default risk."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ActionType(StrEnum):
    RESTART = "restart"
    SCALE = "scale"
    ROLLBACK = "rollback"
    CLEAR_CACHE = "clear_cache"
    ROTATE_CERTIFICATE = "rotate_certificate"
    FAILOVER_DATABASE = "failover_database"
    TERMINATE_DB_CONNECTIONS = "terminate_db_connections"
    RAISE_RESOURCE_LIMIT = "raise_resource_limit"
    CUSTOM_SCRIPT = "custom_script"
    DELETE_POD = "delete_pod"
    PAUSE_ROLLOUT = "pause_rollout"
    RESUME_ROLLOUT = "resume_rollout"
    CORDON_NODE = "cordon_node"
    MANUAL_ONLY = "manual_only"


class ActionSpec(BaseModel):
    """What the catalog knows about an action type, independent of any target."""

    model_config = ConfigDict(frozen=True)

    type: ActionType
    default_risk: Risk
    description: str
    automatable: bool = Field(
        default=True, description="False for actions a person must always carry out."
    )
    undo: str | None = Field(default=None, description="How the action is undone, if it can be.")


class Target(BaseModel):
    """What an action touches, e.g. deployment payments/checkout."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="deployment, statefulset, pod, node, database, cache, secret...")
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        scope = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{scope}{self.name}"


ParamValue = str | int | float | bool


class RemediationAction(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: ActionType
    target: Target
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    risk: Risk
    requires_approval: bool = False
    rationale: str = ""
    steps: list[str] = Field(
        default_factory=list, description="Exact steps for a person (manual_only, failover)."
    )
    runbook: str | None = Field(
        default=None,
        description="Id of the policy runbook that supplied this action; none: the pattern's own.",
    )

    def describe(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in sorted(self.parameters.items()))
        source = f" [runbook {self.runbook}]" if self.runbook else ""
        return f"{self.type.value} {self.target}" + (f" ({params})" if params else "") + source

    def idempotency_key(self, incident_id: str, attempt: int) -> str:
        """Same incident, attempt and action -> same key, in any process."""
        body = json.dumps(
            {
                "incident": incident_id,
                "attempt": attempt,
                "type": self.type.value,
                "target": self.target.model_dump(),
                "parameters": self.parameters,
            },
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:24]


class ActionStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DRY_RUN = "dry_run"
    SKIPPED_DUPLICATE = "skipped_duplicate"
    REFUSED = "refused"


class ActionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: RemediationAction
    idempotency_key: str
    status: ActionStatus
    detail: str = ""
    started_at: datetime
    finished_at: datetime | None = None
