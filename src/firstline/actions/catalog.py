"""The closed catalog of action types. New types are added here, in one place."""

from __future__ import annotations

from firstline.domain.action import ActionSpec, ActionType, RemediationAction, Risk, Target

CATALOG: dict[ActionType, ActionSpec] = {
    spec.type: spec
    for spec in (
        ActionSpec(
            type=ActionType.RESTART,
            default_risk=Risk.LOW,
            description="Rolling restart of a workload (new pods, same spec).",
            undo="none needed: the spec is unchanged",
        ),
        ActionSpec(
            type=ActionType.SCALE,
            default_risk=Risk.MEDIUM,
            description="Change a workload's replica count within policy bounds.",
            undo="scale back to the recorded replica count",
        ),
        ActionSpec(
            type=ActionType.ROLLBACK,
            default_risk=Risk.MEDIUM,
            description="Roll a Deployment back to its previous revision.",
            undo="roll forward to the recorded revision",
        ),
        ActionSpec(
            type=ActionType.CLEAR_CACHE,
            default_risk=Risk.MEDIUM,
            description="Delete cache keys by pattern (SCAN + UNLINK), never a full flush.",
        ),
        ActionSpec(
            type=ActionType.ROTATE_CERTIFICATE,
            default_risk=Risk.MEDIUM,
            description="Re-issue a certificate through its issuer.",
        ),
        ActionSpec(
            type=ActionType.FAILOVER_DATABASE,
            default_risk=Risk.HIGH,
            description="Promote a replica. Always carried out by a person.",
            automatable=False,
        ),
        ActionSpec(
            type=ActionType.TERMINATE_DB_CONNECTIONS,
            default_risk=Risk.MEDIUM,
            description="Terminate idle-in-transaction sessions, never superuser or replication.",
        ),
        ActionSpec(
            type=ActionType.RAISE_RESOURCE_LIMIT,
            default_risk=Risk.MEDIUM,
            description="Raise a container's memory or CPU limit within a policy bound.",
            undo="restore the recorded limit",
        ),
        ActionSpec(
            type=ActionType.CUSTOM_SCRIPT,
            default_risk=Risk.HIGH,
            description="Run a runbook script from the configured directory.",
        ),
        ActionSpec(
            type=ActionType.DELETE_POD,
            default_risk=Risk.LOW,
            description="Delete one pod; its controller replaces it.",
            undo="none needed: the controller recreates the pod",
        ),
        ActionSpec(
            type=ActionType.PAUSE_ROLLOUT,
            default_risk=Risk.MEDIUM,
            description="Pause a Deployment's rollout (spec.paused).",
            undo="resume the rollout",
        ),
        ActionSpec(
            type=ActionType.RESUME_ROLLOUT,
            default_risk=Risk.MEDIUM,
            description="Resume a paused Deployment rollout.",
            undo="pause the rollout",
        ),
        ActionSpec(
            type=ActionType.CORDON_NODE,
            default_risk=Risk.MEDIUM,
            description="Mark a node unschedulable; running pods stay.",
            undo="uncordon the node",
        ),
        ActionSpec(
            type=ActionType.MANUAL_ONLY,
            default_risk=Risk.HIGH,
            description="Steps for a person; firstline never executes these.",
            automatable=False,
        ),
    )
}


def make_action(
    action_type: ActionType,
    target: Target,
    *,
    rationale: str,
    risk: Risk | None = None,
    parameters: dict[str, str | int | float | bool] | None = None,
    steps: list[str] | None = None,
) -> RemediationAction:
    """Build an action with the catalog's default risk unless a pattern knows better."""
    spec = CATALOG[action_type]
    chosen = risk or spec.default_risk
    return RemediationAction(
        type=action_type,
        target=target,
        parameters=parameters or {},
        risk=chosen,
        requires_approval=chosen is not Risk.LOW or not spec.automatable,
        rationale=rationale,
        steps=steps or [],
    )
