"""The incident report in plain text: what a person paged at 3 a.m. reads on one screen.

Notifications carry it; the CLI renders the same facts with colour.
"""

from __future__ import annotations

from firstline.domain.action import ActionStatus
from firstline.domain.evidence import EvidenceStatus, MetricEvidence
from firstline.domain.hypothesis import Analysis
from firstline.domain.incident import ApprovalRequest
from firstline.graph.state import IncidentState
from firstline.notify.base import Notification
from firstline.notify.content import ApprovalAsk, DigestHypothesis, IncidentDigest

MAX_HYPOTHESES = 3
MAX_RULED_OUT = 4
MAX_QUERY = 140


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
    elif top.confidence < 0.6 or not top.verified:
        steps.append(f"check the leading guess ({top.pattern}) against the cited evidence")
        steps.extend(f"to confirm {top.pattern}: {c}" for c in top.confirm[:2])
    return steps[:5]


def ranked_line(analysis: Analysis) -> str:
    """'most likely X (38%), then Y (21%), Z (12%)': the ranking in one line, guesses too."""
    ranked = [(h.pattern, h.confidence) for h in analysis.hypotheses]
    ranked += [(r.pattern, r.confidence) for r in analysis.ruled_out]
    ranked.sort(key=lambda r: -r[1])
    if not ranked:
        return ""
    first, *rest = ranked[:MAX_HYPOTHESES]
    line = f"most likely {first[0]} ({first[1]:.0%})"
    return line + (", then " + ", ".join(f"{p} ({c:.0%})" for p, c in rest) if rest else "")


def render_text(state: IncidentState) -> str:
    alert = state.alert
    lines = [
        f"[{(state.severity.value if state.severity else '?').upper()}] {alert.name}"
        f" — {alert.namespace or '-'}/{alert.service or '-'} — {state.status.value}",
    ]
    if summary := alert.annotations.get("summary"):
        lines.append(f"  {summary}")
    lines.append(f"Fired: {alert.name} since {alert.starts_at:%Y-%m-%d %H:%M} UTC")
    if state.conclusion:
        lines.append(f"Outcome: {state.conclusion}")
    if state.analysis is not None:
        lines.extend(analysis_lines(state.analysis))
    lines.extend(_evidence_lines(state))
    if state.decision:
        d = state.decision
        lines.append(f"Decision: {d.outcome.value} (rule {d.rule}) — {d.reason}")
    lines.extend(f"Tried: {line}" for line in tried(state))
    if state.status.value != "resolved" and (steps := next_steps(state)):
        lines.append("Next steps:")
        lines.extend(f"  - {s}" for s in steps)
    if state.llm_usage is not None:
        lines.append(f"LLM: {state.llm_usage.describe()}")
    return "\n".join(lines)


def analysis_lines(analysis: Analysis) -> list[str]:
    """What the alert means, the ranking in one line, the leading hypotheses with the
    observations behind them (guesses marked), and what was ruled out."""
    lines = [f"Means: {analysis.alert_meaning}"] if analysis.alert_meaning else []
    if ranked := ranked_line(analysis):
        lines.append(f"Ranking: {ranked}")
    if not analysis.hypotheses:
        lines.append("Hypotheses: none — no known pattern explains the evidence")
    else:
        lines.append("Hypotheses:")
    for h in analysis.hypotheses[:MAX_HYPOTHESES]:
        guess = " (guess from the alert alone)" if h.basis == "alert" else ""
        lines.append(f"  {h.confidence:.0%} {h.pattern}{guess}: {h.cause}")
        lines.extend(f"       {s}" for s in h.signals[:4])
        if h.evidence_refs:
            lines.append(f"       evidence: {', '.join(h.evidence_refs)}")
    if analysis.ruled_out:
        lines.append("Ruled out:")
        lines.extend(f"  {r.pattern}: {r.reason}" for r in analysis.ruled_out[:MAX_RULED_OUT])
    lines.extend(localization_lines(analysis))
    return lines


def localization_lines(analysis: Analysis) -> list[str]:
    """Where the trouble started, when the incident spans services: each service by how
    far its own metrics moved from the start, with what moved first."""
    if not analysis.localization:
        return []
    lines = ["Services, by how far their own metrics moved:"]
    for r in analysis.localization[:MAX_HYPOTHESES]:
        lines.append(f"  {r.rank}. {r.service}: {r.deciding or 'none of its own metrics moved'}")
        lines.extend(f"       {m}" for m in r.moved[1:3])
    return lines


def tried(state: IncidentState) -> list[str]:
    """Each action with its result, and each verification, in the order they happened."""
    lines = [f"{r.action.describe()} → {r.status.value}: {r.detail}" for r in state.action_results]
    lines.extend(
        f"verification #{v.attempt} {'passed' if v.resolved else 'failed'}: {v.reason}"
        for v in state.verifications
    )
    return lines


def evidence_summary(state: IncidentState) -> list[str]:
    """What answered, with its exact query so a person can re-run it; anomalies with their
    finding. Empty answers are only counted: one screen cannot hold twenty "no data" lines."""
    if state.evidence is None:
        return []
    lines: list[str] = []
    empty: list[str] = []
    for item in state.evidence.items:
        if item.status is EvidenceStatus.NO_DATA:
            empty.append(item.id.removeprefix("metric:"))
            continue
        query = " ".join(item.provenance.query.split())[:MAX_QUERY]
        line = f"{item.id} ({item.provenance.source}): {query}"
        if item.status is EvidenceStatus.ERROR:
            line += f" [error: {item.reason}]"
        elif isinstance(item, MetricEvidence) and item.anomalous:
            line += f" — {item.findings[0].sentence}"
        lines.append(line)
    if empty:
        lines.append(f"no data ({len(empty)}): {', '.join(empty)}")
    return lines


def _evidence_lines(state: IncidentState) -> list[str]:
    lines = evidence_summary(state)
    return ["Evidence (source: query):", *(f"  {line}" for line in lines)] if lines else []


def digest(state: IncidentState, request: ApprovalRequest | None = None) -> IncidentDigest:
    """The facts of render_text, structured for Slack blocks and PagerDuty details."""
    analysis = state.analysis
    decision = state.decision
    return IncidentDigest(
        alert=state.alert.name,
        where=_where(state),
        service=state.alert.service or "",
        status=state.status.value,
        fired_at=state.alert.starts_at,
        summary=state.alert.annotations.get("summary", ""),
        conclusion=state.conclusion,
        decision=f"{decision.outcome.value} (rule {decision.rule}): {decision.reason}"
        if decision
        else "",
        hypotheses=[
            DigestHypothesis(
                pattern=h.pattern,
                cause=h.cause,
                confidence=h.confidence,
                evidence=h.signals[:4],
                evidence_refs=h.evidence_refs,
            )
            for h in (analysis.hypotheses[:MAX_HYPOTHESES] if analysis else [])
        ],
        ruled_out=[
            f"{r.pattern}: {r.reason}"
            for r in (analysis.ruled_out[:MAX_RULED_OUT] if analysis else [])
        ],
        evidence=evidence_summary(state),
        tried=tried(state),
        next_steps=next_steps(state) if state.status.value != "resolved" else [],
        approval=ApprovalAsk(
            round=state.approval_round + 1,
            expires_at=request.expires_at,
            actions=request.actions,
            dry_run=request.dry_run,
        )
        if request is not None
        else None,
    )


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


def outcome_notification(
    state: IncidentState, kind: str, request: ApprovalRequest | None = None
) -> Notification:
    severity = state.severity.value if state.severity else "medium"
    return Notification(
        incident_id=state.incident_id,
        kind=kind,
        severity=severity,
        title=f"{kind}: {state.alert.name} ({_where(state)})",
        body=render_text(state),
        details=_details(state),
        labels=state.alert.labels,
        digest=digest(state, request),
    )


def acting_notification(state: IncidentState) -> Notification:
    """Sent as remediation starts: the round about to run and what it will do."""
    base = outcome_notification(state, "acting")
    actions = [a.describe() for a in state.decision.actions] if state.decision else []
    body = "\n".join([base.body, "Acting now:", *(f"  - {a}" for a in actions)])
    return base.model_copy(update={"body": body, "round": state.attempt + 1})


def approval_notification(state: IncidentState, request: ApprovalRequest) -> Notification:
    base = outcome_notification(state, "approval_request", request)
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
    return base.model_copy(update={"body": body, "round": state.approval_round + 1})
