"""The incident report in plain text: what a person paged at 3 a.m. reads on one screen.

Notifications carry it; the CLI renders the same facts with colour.
"""

from __future__ import annotations

from firstline.domain.action import ActionStatus
from firstline.domain.incident import ApprovalRequest
from firstline.graph.state import IncidentState
from firstline.notify.base import Notification

MAX_HYPOTHESES = 3
MAX_RULED_OUT = 4


def escalation_reason(state: IncidentState) -> str:
    if state.verifications and not state.verifications[-1].resolved:
        return (
            f"the fix did not hold after {state.attempt} round(s): {state.verifications[-1].reason}"
        )
    if state.approval is not None and not state.approval.approved:
        word = "expired" if state.approval.expired else f"rejected by {state.approval.by}"
        return f"approval {word}"
    if state.decision is not None:
        return f"{state.decision.reason} (rule {state.decision.rule})"
    return "the run could not decide"


def next_steps(state: IncidentState) -> list[str]:
    steps: list[str] = []
    top = state.analysis.top if state.analysis else None
    decision = state.decision
    if decision is not None:
        for action in decision.actions:
            steps.extend(action.steps)
            if not action.steps and state.status.value != "resolved":
                steps.append(f"consider: {action.describe()} — {action.rationale}")
    if top is None:
        steps.append("no known pattern fits: start from the anomalies and recent changes")
    elif top.confidence < 0.6:
        steps.append(f"check the leading guess ({top.pattern}) against the cited evidence")
    return steps[:5]


def render_text(state: IncidentState) -> str:
    alert = state.alert
    lines = [
        f"[{(state.severity.value if state.severity else '?').upper()}] {alert.name}"
        f" — {alert.namespace or '-'}/{alert.service or '-'} — {state.status.value}",
    ]
    if summary := alert.annotations.get("summary"):
        lines.append(f"  {summary}")
    if state.conclusion:
        lines.append(f"Outcome: {state.conclusion}")
    analysis = state.analysis
    if analysis and analysis.hypotheses:
        lines.append("Hypotheses:")
        for h in analysis.hypotheses[:MAX_HYPOTHESES]:
            lines.append(f"  {h.confidence:.0%} {h.pattern}: {h.cause}")
            lines.extend(f"       {s}" for s in h.signals[:4])
            if h.evidence_refs:
                lines.append(f"       evidence: {', '.join(h.evidence_refs)}")
    elif analysis:
        lines.append("Hypotheses: none — no known pattern explains the evidence")
    if analysis and analysis.ruled_out:
        lines.append("Ruled out:")
        lines.extend(f"  {r.pattern}: {r.reason}" for r in analysis.ruled_out[:MAX_RULED_OUT])
    lines.extend(_evidence_lines(state))
    if state.decision:
        d = state.decision
        lines.append(f"Decision: {d.outcome.value} (rule {d.rule}) — {d.reason}")
    for r in state.action_results:
        lines.append(f"Action: {r.action.describe()} → {r.status.value}: {r.detail}")
    for v in state.verifications:
        lines.append(f"Verify #{v.attempt}: {'passed' if v.resolved else 'failed'} — {v.reason}")
    if state.status.value != "resolved" and (steps := next_steps(state)):
        lines.append("Next steps:")
        lines.extend(f"  - {s}" for s in steps)
    return "\n".join(lines)


def _evidence_lines(state: IncidentState) -> list[str]:
    """Each evidence item with the source and the exact query, so a person can re-run it."""
    if state.evidence is None:
        return []
    lines = ["Evidence (source: query):"]
    for item in state.evidence.items:
        status = "" if item.status.value == "ok" else f" [{item.status.value}: {item.reason}]"
        query = " ".join(item.provenance.query.split())
        lines.append(f"  {item.id} ({item.provenance.source}): {query[:140]}{status}")
    return lines


def _details(state: IncidentState) -> dict[str, object]:
    top = state.analysis.top if state.analysis else None
    return {
        "incident_id": state.incident_id,
        "alert": state.alert.name,
        "labels": state.alert.labels,
        "top_hypothesis": top.pattern if top else None,
        "confidence": top.confidence if top else None,
        "decision": state.decision.outcome.value if state.decision else None,
        "rule": state.decision.rule if state.decision else None,
        "actions": [
            {"action": r.action.describe(), "status": r.status.value}
            for r in state.action_results
            if r.status is not ActionStatus.SKIPPED_DUPLICATE
        ],
    }


def _where(state: IncidentState) -> str:
    return f"{state.alert.namespace or '-'}/{state.alert.service or '-'}"


def outcome_notification(state: IncidentState, kind: str) -> Notification:
    severity = state.severity.value if state.severity else "medium"
    return Notification(
        incident_id=state.incident_id,
        kind=kind,
        severity=severity,
        title=f"{kind}: {state.alert.name} ({_where(state)})",
        body=render_text(state),
        details=_details(state),
    )


def approval_notification(state: IncidentState, request: ApprovalRequest) -> Notification:
    base = outcome_notification(state, "approval_request")
    body = "\n".join(
        [
            base.body,
            "Approval needed for:",
            *(f"  - {line}" for line in request.dry_run),
            f"Expires {request.expires_at:%Y-%m-%d %H:%M:%S} UTC.",
            f"Approve: firstline approve {state.incident_id} --by NAME"
            f"   Reject: firstline approve {state.incident_id} --reject --by NAME",
        ]
    )
    return base.model_copy(update={"body": body})
