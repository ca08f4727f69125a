"""POST /slack/interactions: approve and reject buttons of firstline's Slack messages.

The request is verified with the Slack signing secret (v0 signature, 5-minute timestamp
tolerance) before anything is parsed; a failure is a bare 401 and the run stays paused.
Slack wants an answer within 3 seconds, so the decision is taken in the background (the
first decision still wins, through the store's atomic claim) and a refusal is reported
back through the click's response_url.
"""

from __future__ import annotations

import asyncio

import httpx
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from firstline.graph.approvals import ApprovalError, submit_decision
from firstline.notify.slack_interactions import (
    SlackApproval,
    SlackPayloadError,
    SlackRequestRejected,
    read_slack_approval,
)
from firstline.service.bodies import read_body
from firstline.service.context import ServiceContext
from firstline.service.problems import Problem, documented
from firstline.service.workers import WorkerPool
from firstline.store.incidents import UnknownIncident

log = structlog.get_logger(__name__)

_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"payload": {"type": "string"}},
                    "required": ["payload"],
                }
            }
        },
    }
}


def slack_router(ctx: ServiceContext, pool: WorkerPool) -> APIRouter:
    router = APIRouter(tags=["slack"])
    pending: set[asyncio.Task[None]] = set()

    @router.post(
        "/slack/interactions",
        responses={200: {"description": "Click received."}, **documented(400, 401, 413)},
        openapi_extra=_FORM_BODY,
    )
    async def interactions(request: Request) -> JSONResponse:
        secret = ctx.slack_signing_secret
        body = await read_body(request, ctx.settings.max_body_bytes)
        if secret is None:
            raise Problem(401, "unauthorized")
        try:
            click = read_slack_approval(secret.get_secret_value(), request.headers, body)
        except SlackRequestRejected as exc:
            raise Problem(401, "unauthorized") from exc
        except SlackPayloadError as exc:
            raise Problem(400, str(exc)) from exc
        task = asyncio.create_task(_decide(ctx, pool, click))
        pending.add(task)
        task.add_done_callback(pending.discard)
        verb = "approval" if click.approved else "rejection"
        return JSONResponse({"text": f"{verb} of {click.incident_id} received from {click.user}"})

    return router


async def _decide(ctx: ServiceContext, pool: WorkerPool, click: SlackApproval) -> None:
    record = ctx.store.approval(click.incident_id)
    if record is None or record.round != click.round:
        await _reply(click, "this approval request is no longer open")
        return
    try:
        result = await submit_decision(
            ctx.runner, click.incident_id, approved=click.approved, by=click.user,
            comment=f"Slack user {click.user_id} in {click.channel}", channel="slack",
        )  # fmt: skip
    except (ApprovalError, UnknownIncident) as exc:
        ctx.metrics.approvals.labels("conflict").inc()
        await _reply(click, str(exc))
        return
    pool.record(click.incident_id, result.outcome)
    ctx.metrics.approvals.labels(
        "expired" if result.expired else ("approved" if click.approved else "rejected")
    ).inc()
    await _reply(click, result.message)


async def _reply(click: SlackApproval, text: str) -> None:
    """Answer in Slack through the click's response_url (only ever a hooks.slack.com URL)."""
    url = click.response_url
    if not url or not url.startswith("https://hooks.slack.com/"):
        log.info("slack decision", incident=click.incident_id, result=text)
        return
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await client.post(url, json={"text": text, "response_type": "ephemeral"})
    except httpx.HTTPError as exc:
        log.warning("slack response_url failed", error=str(exc))
