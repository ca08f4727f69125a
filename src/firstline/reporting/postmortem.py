"""A postmortem draft as data: what happened, for how long, what the evidence showed, what
was done and whether it held, and what is left to follow up. `firstline report`, `GET
/api/v1/incidents/{id}/report` and the templates (reporting/templates/) all read this one
model; its JSON is what `firstline report --json` prints (docs/report.md).

Every field comes from the incident's saved state, its timeline and its audit records;
nothing is inferred beyond what those say (the follow-ups are in reporting/follow_ups.py).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, Field

from firstline.charts import VerificationMark
from firstline.domain.evidence import Evidence, EvidenceStatus, MetricEvidence
from firstline.domain.incident import IncidentStatus, TimelineEntry
from firstline.graph.report import escalation_reason, ranked_line
from firstline.graph.state import IncidentState
from firstline.reporting.audit_lines import audit_line
from firstline.reporting.follow_ups import follow_ups
from firstline.store.audit import AuditRecord

REPORT_VERSION = 1
M = TypeVar("M", bound=BaseModel)


class ImpactWindow(BaseModel):
    start: datetime
    start_source: str = Field(description="What marks the start: the alert, or a metric's anomaly.")
    end: datetime | None = Field(default=None, description="None while the impact is ongoing.")
    end_source: str = Field(default="", description="What marks the end; empty while ongoing.")

    @property
    def ongoing(self) -> bool:
        return self.end is None


class EvidenceLine(BaseModel):
    id: str
    source: str
    query: str
    status: EvidenceStatus
    note: str = Field(default="", description="The anomaly found, or why there is no data.")
    chart: str | None = Field(
        default=None, description="The chart's file name (charts/...png) when it has points."
    )


class RootCause(BaseModel):
    pattern: str
    cause: str
    confidence: float
    verified: bool
    basis: str
    signals: list[str]
    evidence_refs: list[str]


class ActionLine(BaseModel):
    action: str
    status: str
    detail: str
    started_at: datetime
    finished_at: datetime | None = None


class VerificationLine(BaseModel):
    attempt: int
    resolved: bool
    reason: str
    checks: list[str]
    at: datetime | None = None


class AuditLine(BaseModel):
    seq: int
    at: str
    kind: str
    actor: str
    summary: str


class Postmortem(BaseModel):
    version: int = REPORT_VERSION
    incident_id: str
    title: str
    status: IncidentStatus
    severity: str | None
    service: str | None
    namespace: str | None
    alert_name: str
    alert_summary: str
    alert_description: str
    alert_source_url: str | None
    summary: str = Field(description="The run's conclusion, or where it stands.")
    impact: ImpactWindow
    timeline: list[TimelineEntry]
    evidence: list[EvidenceLine]
    no_data: list[str] = Field(description="Evidence that was asked for and came back empty.")
    alert_meaning: str
    root_cause: RootCause | None
    ranking: str
    ruled_out: list[str]
    decisions: list[str]
    approval: str | None
    escalation: str | None = Field(description="Why a person was asked to take over, if one was.")
    actions: list[ActionLine]
    verifications: list[VerificationLine]
    audit: list[AuditLine]
    follow_ups: list[str]


def build_postmortem(
    state: IncidentState, timeline: list[TimelineEntry], audit: list[AuditRecord]
) -> Postmortem:
    alert = state.alert
    analysis = state.analysis
    top = analysis.top if analysis else None
    marks = _verification_times(timeline)
    return Postmortem(
        incident_id=state.incident_id,
        title=f"{alert.name} on {alert.namespace or '-'}/{alert.service or '-'}",
        status=state.status,
        severity=state.severity.value if state.severity else None,
        service=alert.service,
        namespace=alert.namespace,
        alert_name=alert.name,
        alert_summary=alert.annotations.get("summary", ""),
        alert_description=alert.annotations.get("description", ""),
        alert_source_url=alert.generator_url,
        summary=state.conclusion or f"the run stands at: {state.status.value}",
        impact=impact_window(state, timeline),
        timeline=timeline,
        evidence=_evidence(state),
        no_data=[i.id for i in _items(state) if i.status is EvidenceStatus.NO_DATA],
        alert_meaning=analysis.alert_meaning if analysis else "",
        root_cause=_fields_of(RootCause, top) if top else None,
        ranking=ranked_line(analysis) if analysis else "",
        ruled_out=[f"{r.pattern} ({r.confidence:.0%}): {r.reason}" for r in analysis.ruled_out]
        if analysis
        else [],
        decisions=[f"{d.outcome.value} (rule {d.rule}): {d.reason}" for d in state.decisions],
        approval=_approval(state),
        escalation=escalation_reason(state) if state.status is IncidentStatus.ESCALATED else None,
        actions=[
            _fields_of(ActionLine, r, action=r.action.describe()) for r in state.action_results
        ],
        verifications=[
            _fields_of(VerificationLine, v, at=marks[n] if n < len(marks) else None)
            for n, v in enumerate(state.verifications)
        ],
        audit=[
            AuditLine(seq=r.seq, at=r.at, kind=r.kind, actor=r.actor, summary=audit_line(r))
            for r in audit
        ],
        follow_ups=follow_ups(state),
    )


def _fields_of(model: type[M], source: BaseModel, **extra: object) -> M:
    """`model` filled from the fields of `source` it shares, and `extra`."""
    return model.model_validate(source.model_dump(include=set(model.model_fields)) | extra)


def impact_window(state: IncidentState, timeline: list[TimelineEntry]) -> ImpactWindow:
    """From the earlier of the alert's start and the first anomaly in the evidence, to the
    alert's end or the verification that found it resolved; open otherwise."""
    start, start_source = state.alert.starts_at, f"alert {state.alert.name} started"
    for metric in chart_metrics(state):
        for finding in metric.findings:
            if finding.started_at is not None and finding.started_at < start:
                start, start_source = finding.started_at, f"{metric.id} left its baseline"
    if state.alert.ends_at is not None:
        return ImpactWindow(start=start, start_source=start_source, end=state.alert.ends_at,
                            end_source=f"alert {state.alert.name} resolved")  # fmt: skip
    passed = [e for e in timeline if e.event == "verification passed"]
    if state.verifications and state.verifications[-1].resolved and passed:
        return ImpactWindow(start=start, start_source=start_source, end=passed[-1].at,
                            end_source=f"verification: {state.verifications[-1].reason}")  # fmt: skip
    return ImpactWindow(start=start, start_source=start_source)


def chart_metrics(state: IncidentState) -> list[MetricEvidence]:
    """The metric evidence a chart can be drawn of: the ones with points, in evidence order."""
    return [i for i in _items(state) if isinstance(i, MetricEvidence) and i.points]


def verification_mark(
    state: IncidentState, timeline: list[TimelineEntry]
) -> VerificationMark | None:
    """The last verification, drawn at the time the timeline recorded it."""
    if not state.verifications:
        return None
    last = state.verifications[-1]
    times = _verification_times(timeline)
    return VerificationMark(resolved=last.resolved, reason=last.reason,
                            at=times[-1] if times else None)  # fmt: skip


def chart_file(index: int, metric: MetricEvidence) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", metric.name.lower()).strip("-") or "metric"
    return f"charts/{index + 1:02d}-{slug}.png"


def _verification_times(timeline: list[TimelineEntry]) -> list[datetime]:
    return [e.at for e in timeline if e.event.startswith("verification ")]


def _items(state: IncidentState) -> list[Evidence]:
    return list(state.evidence.items) if state.evidence else []


def _evidence(state: IncidentState) -> list[EvidenceLine]:
    charted = {id(m): n for n, m in enumerate(chart_metrics(state))}
    lines = []
    for item in state.evidence.items if state.evidence else []:
        if item.status is EvidenceStatus.NO_DATA:
            continue
        note = item.reason or ""
        if isinstance(item, MetricEvidence) and item.findings:
            note = item.findings[0].sentence
        n = charted.get(id(item))
        lines.append(
            EvidenceLine(
                id=item.id, source=item.provenance.source,
                query=" ".join(item.provenance.query.split()), status=item.status, note=note,
                chart=chart_file(n, item) if n is not None and isinstance(item, MetricEvidence)
                else None,
            )
        )  # fmt: skip
    return lines


def _approval(state: IncidentState) -> str | None:
    answer = state.approval
    if answer is None:
        return None
    if answer.expired:
        return "the approval request expired"
    verb = "approved" if answer.approved else "rejected"
    comment = f": {answer.comment}" if answer.comment else ""
    return f"{verb} by {answer.by} via {answer.channel} at {answer.at:%Y-%m-%d %H:%M} UTC{comment}"
