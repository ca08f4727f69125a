"""/api/v1: incidents with their timeline, evidence and decisions; approve and reject.

Same semantics as `firstline approve`: the first decision wins, a late one gets 409, an
expired request escalates. Every route needs `Authorization: Bearer <token>`; deciding needs
a token bound to a principal (serve.api_principals) whom the policy's approvers allow.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, field_validator

from firstline.domain.alert import Alert
from firstline.domain.incident import IncidentStatus, IncidentSummary, TimelineEntry
from firstline.graph.approvals import AlreadyDecided, NotAllowed, claim_decision
from firstline.graph.state import IncidentState
from firstline.intake.text import safe_text
from firstline.reporting.documents import IncidentReport, ReportFormat, TemplateFailed, Templates
from firstline.reporting.incident import incident_json
from firstline.service.auth import ApiCaller
from firstline.service.context import ServiceContext
from firstline.service.problems import Problem, documented, error_response
from firstline.service.workers import WorkerPool


class IncidentDetail(BaseModel):
    summary: IncidentSummary
    queue_state: str | None = Field(
        default=None, description="queued | running | paused | done | self_resolved"
    )
    alerts: list[Alert] = Field(description="Every alert grouped into the incident.")
    timeline: list[TimelineEntry]
    investigation: dict[str, Any] | None = Field(
        default=None,
        description="Evidence, hypotheses, decisions and actions; null until a run has saved state.",
    )


class DecisionRequest(BaseModel):
    by: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description=(
            "Optional: must be the principal the API token is bound to (who decides is the"
            " token's principal, and that is what the audit records)."
        ),
    )
    comment: str = Field(default="", max_length=2000)

    @field_validator("by", "comment")
    @classmethod
    def _storage_safe(cls, value: str | None) -> str | None:
        # a lone surrogate would not survive the audit log
        return safe_text(value) if value is not None else None


class DecisionAnswer(BaseModel):
    message: str
    expired: bool
    status: IncidentStatus
    paused_at: list[str]
    resumed: bool = Field(
        default=True,
        description=(
            "True: the run was resumed here and `status` is where it stopped. False: the"
            " decision is recorded and a worker resumes the run (serve --no-workers, or"
            " another worker holds it); follow it with GET /api/v1/incidents/{id}."
        ),
    )


def api_router(ctx: ServiceContext, pool: WorkerPool) -> APIRouter:
    def authorised(request: Request) -> None:
        caller = ctx.authenticator.api(request.headers)
        if caller is None:
            raise Problem(401, "unauthorized")
        request.state.caller = caller

    router = APIRouter(
        prefix="/api/v1",
        tags=["incidents"],
        dependencies=[Depends(authorised)],
        responses=documented(401, 429, 503),
    )

    @router.get("/incidents", response_model=list[IncidentSummary])
    def list_incidents(
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        status: IncidentStatus | None = None,
    ) -> list[IncidentSummary]:
        return ctx.store.list_incidents(limit, status)

    @router.get(
        "/incidents/{incident_id}", response_model=IncidentDetail, responses=documented(404)
    )
    def get_incident(incident_id: str) -> IncidentDetail:
        # Read in the reverse of the order a run writes them (snapshot and final status in
        # one statement, then the queue state): a reader that sees the queue `done` then sees
        # the final status too, never a summary older than the snapshot beside it.
        queue = ctx.intake.queue_entry(incident_id)
        snapshot = ctx.store.snapshot(incident_id)  # UnknownIncident: 404
        summary = ctx.store.summary(incident_id)
        investigation = None
        if snapshot:
            investigation = incident_json(IncidentState.model_validate(snapshot), ctx.store, None)
            investigation.pop("timeline", None)
        return IncidentDetail(
            summary=summary,
            queue_state=queue[0] if queue else None,
            alerts=ctx.intake.alerts_of(incident_id),
            timeline=ctx.store.timeline(incident_id),
            investigation=investigation,
        )

    @router.get(
        "/incidents/{incident_id}/report",
        # Response has no media type of its own: the errors stay JSON (ErrorBody), the
        # 200 lists the two the format chooses between
        response_class=Response,
        responses={
            200: {
                "description": "The postmortem draft (docs/report.md): Markdown without its"
                " charts, or one HTML file with the charts inline as SVG.",
                "content": {"text/markdown": {}, "text/html": {}},
            },
            **documented(404, 409),
        },
    )
    def get_report(
        incident_id: str,
        report_format: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.MD,
    ) -> Response:
        """The incident's postmortem draft, from the built-in templates or those in
        report.templates_dir. 409 while its run has saved no state yet."""
        return report_response(ctx, incident_id, report_format)

    decision_responses = documented(403, 404, 409)

    @router.post(
        "/incidents/{incident_id}/approve",
        response_model=DecisionAnswer,
        responses=decision_responses,
    )
    async def approve(incident_id: str, body: DecisionRequest, request: Request) -> DecisionAnswer:
        """Approve the pending actions as the token's principal, if the policy's approvers
        allow it (else 403, audited); the run resumes and the answer reports its end state."""
        return await decide(ctx, pool, incident_id, body, _principal(request, body), approved=True)

    @router.post(
        "/incidents/{incident_id}/reject",
        response_model=DecisionAnswer,
        responses=decision_responses,
    )
    async def reject(incident_id: str, body: DecisionRequest, request: Request) -> DecisionAnswer:
        """Reject the pending actions as the token's principal; the incident escalates."""
        return await decide(ctx, pool, incident_id, body, _principal(request, body), approved=False)

    return router


def _principal(request: Request, body: DecisionRequest) -> str:
    caller: ApiCaller = request.state.caller
    if caller.principal is None:
        raise Problem(
            403, "this API token names no principal (serve.api_principals): it may read, not decide"
        )
    if body.by is not None and body.by != caller.principal:
        raise Problem(403, f"by: the token belongs to {caller.principal}, not {body.by}")
    return caller.principal


def report_response(
    ctx: ServiceContext,
    incident_id: str,
    report_format: ReportFormat,
    headers: dict[str, str] | None = None,
) -> Response:
    """The rendered postmortem draft (UnknownIncident: 404; NoSavedState: 409)."""
    found = IncidentReport.load(ctx.store, ctx.runner.context.audit, incident_id)
    templates = Templates(directory=ctx.report_templates)
    try:
        rendered = found.render(report_format, templates, with_charts=False)
    except (
        TemplateFailed
    ) as exc:  # the operator's template (report.templates_dir), not the caller's
        return error_response(500, f"the server's report template failed: {exc}")
    return Response(rendered.text, media_type=report_format.media_type, headers=headers)


async def decide(
    ctx: ServiceContext,
    pool: WorkerPool,
    incident_id: str,
    body: DecisionRequest,
    principal: str,
    *,
    approved: bool,
    channel: str = "api",
) -> DecisionAnswer:
    """The one approval path of the HTTP service (the API and the console): the decision
    is validated and recorded by graph/approvals.py, and the run resumes on the workers' loop."""

    # UnknownIncident: 404, NotAllowed: 403, another ApprovalError: 409 (problems.py); the
    # refusals are counted on the way
    try:
        claim = await pool.call(
            partial(
                claim_decision, ctx.runner, incident_id, approved=approved, by=principal,
                comment=body.comment, channel=channel,
            )
        )  # fmt: skip
    except NotAllowed:
        ctx.metrics.approvals.labels("refused").inc()
        raise
    except AlreadyDecided:
        ctx.metrics.approvals.labels("conflict").inc()
        raise
    result = await pool.apply_decision(claim)
    if result is None:  # a worker resumes it (serve --no-workers), or is resuming it now
        return DecisionAnswer(
            message=f"{claim.message}; a worker resumes the run",
            expired=claim.expired,
            status=ctx.store.summary(incident_id).status,
            paused_at=list(await pool.call(partial(ctx.runner.paused_at, incident_id))),
            resumed=False,
        )
    return DecisionAnswer(
        message=result.message,
        expired=result.expired,
        status=result.outcome.state.status,
        paused_at=list(result.outcome.paused_at),
    )
