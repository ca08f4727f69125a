"""What is left to do after an incident, read off its state: each line follows from
something the run recorded (an action that held, a fix that did not, a cause not found,
a guess not confirmed, a source that failed), never from what it might have been."""

from __future__ import annotations

from firstline.domain.action import ActionStatus, ActionType, RemediationAction
from firstline.domain.evidence import DeploymentEvidence, EvidenceStatus
from firstline.domain.incident import IncidentStatus
from firstline.graph.report import next_steps
from firstline.graph.state import IncidentState

RELIEVES = {ActionType.RESTART, ActionType.DELETE_POD, ActionType.CLEAR_CACHE,
            ActionType.TERMINATE_DB_CONNECTIONS, ActionType.FAILOVER_DATABASE}  # fmt: skip
"""Actions that clear a symptom without changing what caused it."""
LOW_CONFIDENCE = 0.6
"""Below this the leading hypothesis is called a guess (graph/report.py next_steps too)."""


def follow_ups(state: IncidentState) -> list[str]:
    lines: list[str] = []
    held = bool(state.verifications) and state.verifications[-1].resolved
    applied = [r.action for r in state.action_results if r.status is ActionStatus.SUCCEEDED]
    if held:
        lines.extend(_make_permanent(state, action) for action in applied)
    elif state.verifications:
        last = state.verifications[-1]
        lines.append(
            f"the fix did not hold after {state.attempt} round(s) ({last.reason}):"
            " find what keeps the alert firing"
        )
    if not state.status.final:
        lines.append(f"the incident is not over yet (status {state.status.value})")
    top = state.analysis.top if state.analysis else None
    if top is None and not held:
        where = state.alert.service or state.alert.namespace or "the alerting service"
        lines.append(
            f"find the cause of {state.alert.name} on {where}: no known pattern explained"
            " the evidence"
        )
    elif top is not None and top.confidence < LOW_CONFIDENCE:
        lines.append(
            f"the cause is not established: the leading hypothesis {top.pattern} has"
            f" {top.confidence:.0%} confidence"
        )
    if state.status is IncidentStatus.ESCALATED and top is not None:
        lines.extend(s for s in next_steps(state) if s not in lines)
    lines.extend(
        f"{item.id} could not be read ({item.reason or 'error'}): fix the source so the next"
        " incident has it"
        for item in (state.evidence.items if state.evidence else [])
        if item.status is EvidenceStatus.ERROR
    )
    return lines


def _make_permanent(state: IncidentState, action: RemediationAction) -> str:
    if action.type is ActionType.ROLLBACK:
        images = _rolled_back_images(state, action)
        what = f" of {', '.join(images)}" if images else ""
        return (
            f"guard against the regression{what} returning: {action.describe()} undid the"
            " rollout, not its cause; fix it before rolling forward again"
        )
    if action.type in RELIEVES:
        return (
            f"{action.describe()} relieved the symptom, not its cause: find why it was"
            " needed so that it does not recur"
        )
    return (
        f"make the fix permanent: {action.describe()} changed the running system; carry it"
        " into the source of truth (manifests, configuration) so the next deploy keeps it"
    )


def _rolled_back_images(state: IncidentState, action: RemediationAction) -> list[str]:
    """The images of the newest revision the rollback moved away from, as the evidence
    listed them (empty when the evidence did not list the deployment)."""
    for item in state.evidence.items if state.evidence else []:
        if not isinstance(item, DeploymentEvidence):
            continue
        for deployment in item.deployments:
            if (deployment.name, deployment.namespace) != (
                action.target.name,
                action.target.namespace,
            ) or not deployment.revisions:
                continue
            newest = max(deployment.revisions, key=lambda r: r.revision)
            return [c.image for c in newest.containers]
    return []
