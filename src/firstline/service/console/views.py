"""What the console's pages show, read from the same stores and state as the API: plain
data for the templates, so the templates only lay it out."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from firstline.charts import metric_chart_svg
from firstline.domain.alert import Alert, Severity
from firstline.domain.incident import IncidentStatus, IncidentSummary, TimelineEntry
from firstline.graph.state import IncidentState
from firstline.policy.approvers import approval_refusal
from firstline.reporting.postmortem import chart_metrics, verification_mark
from firstline.service.auth import ApiCaller
from firstline.service.context import ServiceContext
from firstline.store.audit import AuditKind, AuditRecord
from firstline.store.filters import ListFilters

PAGE_SIZE = 50
SINCE_CHOICES = {"1h": timedelta(hours=1), "24h": timedelta(days=1),
                 "7d": timedelta(days=7), "30d": timedelta(days=30)}  # fmt: skip


@dataclass(frozen=True)
class ListQuery:
    """The list page's filters as the form sent them; anything unknown is dropped."""

    status: IncidentStatus | None = None
    severity: Severity | None = None
    service: str = ""
    since: str = ""
    before: datetime | None = None

    @classmethod
    def parse(cls, params: dict[str, str]) -> ListQuery:
        def pick(kind: Any, raw: str | None) -> Any:
            try:
                return kind(raw) if raw else None
            except ValueError:
                return None

        before = None
        if params.get("before"):
            try:
                before = datetime.fromisoformat(params["before"])
            except ValueError:
                before = None
        return cls(
            status=pick(IncidentStatus, params.get("status")),
            severity=pick(Severity, params.get("severity")),
            service=params.get("service", "").strip()[:200],
            since=params.get("since", "") if params.get("since") in SINCE_CHOICES else "",
            before=before,
        )

    def filters(self, now: datetime) -> ListFilters:
        since = now - SINCE_CHOICES[self.since] if self.since else None
        return ListFilters(severity=self.severity, service=self.service or None, since=since,
                           before=self.before)  # fmt: skip

    def params(self) -> dict[str, str]:
        """The filters as query parameters (the 'older' link keeps them)."""
        found = {"status": self.status.value if self.status else "",
                 "severity": self.severity.value if self.severity else "",
                 "service": self.service, "since": self.since}  # fmt: skip
        return {k: v for k, v in found.items() if v}


def incident_list(ctx: ServiceContext, query: ListQuery) -> list[IncidentSummary]:
    return ctx.store.list_incidents(PAGE_SIZE, query.status, query.filters(ctx.clock()))


@dataclass
class Chart:
    evidence_id: str
    svg: str
    points: int


@dataclass
class Approvals:
    """What this principal may do about a pending approval; nothing when none is pending."""

    pending: bool = False
    may_approve: bool = False
    may_reject: bool = False
    refusal: str | None = None
    expires_at: datetime | None = None
    would: list[str] = field(default_factory=list)


@dataclass
class IncidentPage:
    summary: IncidentSummary
    queue_state: str | None
    alerts: list[Alert]
    state: IncidentState | None
    timeline: list[TimelineEntry]
    audit: list[AuditRecord]
    dry_runs: list[str]
    charts: list[Chart]
    approvals: Approvals

    @property
    def live(self) -> bool:
        """Not over yet: worth polling, a paused run too (someone may decide elsewhere)."""
        return not self.summary.status.final


def incident_page(ctx: ServiceContext, incident_id: str, caller: ApiCaller) -> IncidentPage:
    # the API's read order (service/api.py get_incident): queue, snapshot, then summary
    queue = ctx.intake.queue_entry(incident_id)
    snapshot = ctx.store.snapshot(incident_id)  # UnknownIncident: 404
    summary = ctx.store.summary(incident_id)
    state = IncidentState.model_validate(snapshot) if snapshot else None
    timeline = ctx.store.timeline(incident_id)
    audit = ctx.runner.context.audit.records(incident_id)
    return IncidentPage(
        summary=summary,
        queue_state=queue[0] if queue else None,
        alerts=ctx.intake.alerts_of(incident_id),
        state=state,
        timeline=timeline,
        audit=audit,
        dry_runs=[str(r.details.get("diff", "")) for r in audit if r.kind == AuditKind.DRY_RUN],
        charts=_charts(state, timeline, summary) if state else [],
        approvals=_approvals(ctx, summary, queue, state, timeline, caller),
    )


def _approvals(
    ctx: ServiceContext,
    summary: IncidentSummary,
    queue: tuple[str, int] | None,
    state: IncidentState | None,
    timeline: list[TimelineEntry],
    caller: ApiCaller,
) -> Approvals:
    record = ctx.store.approval(summary.id)
    waiting = summary.status is IncidentStatus.AWAITING_APPROVAL and (queue or ("",))[0] == "paused"
    if record is None or record.decided or not waiting or state is None:
        return Approvals()
    requested = [e for e in timeline if e.event.startswith("approval requested")]
    would = requested[-1].detail.partition("would: ")[2] if requested else ""
    pending = Approvals(pending=True, expires_at=record.expires_at,
                        would=[w for w in would.split("; ") if w])  # fmt: skip
    if caller.principal is None:
        pending.refusal = "this token names no principal: it may read, not decide"
        return pending
    actions = state.decision.actions if state.decision else []
    severity = state.severity or Severity.MEDIUM  # as graph/approvals.py checks it
    refusal = approval_refusal(ctx.runner.context.policy.approvers, caller.principal, actions,
                               severity)  # fmt: skip
    pending.may_reject = True  # a rejection only escalates: any principal may
    pending.may_approve = refusal is None
    pending.refusal = refusal
    return pending


# -- charts, drawn once per version of an incident ------------------------------------------
_CACHE: OrderedDict[tuple[str, ...], str] = OrderedDict()
_CACHE_SIZE = 256
_CACHE_LOCK = threading.Lock()


def _charts(
    state: IncidentState, timeline: list[TimelineEntry], summary: IncidentSummary
) -> list[Chart]:
    metrics = chart_metrics(state)
    mark = verification_mark(state, timeline)
    charts = []
    for n, metric in enumerate(metrics):
        key = (summary.id, summary.updated_at.isoformat(), metric.id, str(n), repr(mark))
        with _CACHE_LOCK:
            svg = _CACHE.get(key)
        if svg is None:
            svg = metric_chart_svg(metric, alert_started_at=state.alert.starts_at,
                                   verification=mark, chart_id=f"chart-{n}")  # fmt: skip
            with _CACHE_LOCK:
                _CACHE[key] = svg
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
        charts.append(Chart(evidence_id=metric.id, svg=svg, points=len(metric.points)))
    return charts


def ago(moment: datetime, now: datetime) -> str:
    """'5 min ago': the list's second column, next to the exact time."""
    seconds = (now - (moment if moment.tzinfo else moment.replace(tzinfo=UTC))).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"
