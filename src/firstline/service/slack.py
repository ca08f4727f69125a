"""POST /slack/interactions: approve and reject buttons of firstline's Slack messages.

The request is verified with the Slack signing secret (v0 signature, 5-minute timestamp
tolerance) before anything is parsed; a failure is a bare 401 and the run stays paused.
Slack wants an answer within 3 seconds: the decision is claimed (first one wins, durably,
audited) before the answer, and the run resumes in the background; a refusal is the
answer's text. A crash after the claim leaves a decided request that the worker pool
resumes when the server starts again.

Errors are the app's (problems.py: 401 unauthorized, 400 for a payload that is not a click,
429/503 with Retry-After when the store fails), except a decision that cannot be taken
(already decided, not waiting, not allowed, unknown incident): Slack gets 200 with the
reason as the text, which `_SlackRoute` maps once for the router.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from firstline.graph.approvals import (
    ApprovalError,
    Claim,
    claim_decision,
)
from firstline.notify.slack_interactions import SlackApproval, read_slack_approval
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


def _slack_route(ctx: ServiceContext) -> type[APIRoute]:
    class _SlackRoute(APIRoute):
        """A decision Slack cannot have taken is a 200 whose text says why."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def answer(request: Request) -> Response:
                try:
                    return await handler(request)
                except (ApprovalError, UnknownIncident) as exc:
                    ctx.metrics.approvals.labels("conflict").inc()
                    return JSONResponse({"text": str(exc)})

            return answer

    return _SlackRoute


def slack_router(ctx: ServiceContext, pool: WorkerPool) -> APIRouter:
    router = APIRouter(tags=["slack"], route_class=_slack_route(ctx))
    pending: set[asyncio.Task[None]] = set()

    @router.post(
        "/slack/interactions",
        responses={
            200: {"description": "Click received."},
            **documented(400, 401, 408, 413, 429, 503),
        },
        openapi_extra=_FORM_BODY,
    )
    async def interactions(request: Request) -> JSONResponse:
        secret = ctx.slack_signing_secret
        body = await read_body(
            request, ctx.settings.max_body_bytes, ctx.settings.body_read_timeout_seconds
        )
        if secret is None:
            raise Problem(401, "unauthorized")
        # SlackRequestRejected: 401, SlackPayloadError: 400
        click = read_slack_approval(secret.get_secret_value(), request.headers, body)
        record = ctx.store.approval(click.incident_id)
        if record is None or record.round != click.round:
            return JSONResponse({"text": "this approval request is no longer open"})
        claim = await pool.call(
            lambda: claim_decision(
                ctx.runner, click.incident_id, approved=click.approved,
                by=slack_principal(ctx, click.user_id),
                comment=f"Slack user {click.user} in {click.channel}", channel="slack",
            )
        )  # fmt: skip
        task = asyncio.create_task(_resume(ctx, pool, click, claim))
        pending.add(task)
        task.add_done_callback(pending.discard)
        return JSONResponse({"text": f"{claim.message}; resuming"})

    return router


def slack_principal(ctx: ServiceContext, user_id: str) -> str:
    """Who decides: the principal the settings map this Slack user to, else slack:<id>.
    Always from the signed user id, never from a display name the user can change."""
    return ctx.slack_principals.get(user_id, f"slack:{user_id}")


async def _resume(
    ctx: ServiceContext, pool: WorkerPool, click: SlackApproval, claim: Claim
) -> None:
    try:
        result = await pool.apply_decision(claim)
    except Exception as exc:  # the claim stands; a worker resumes it from the queue
        log.exception("resuming after a Slack decision failed", incident_id=claim.incident_id)
        await _reply(click, f"decision recorded, but resuming failed: {type(exc).__name__}")
        return
    if result is None:
        await _reply(click, f"{claim.message}: a worker resumes the run")
        return
    await _reply(click, f"{result.message}: {result.outcome.state.status.value}")


async def _reply(click: SlackApproval, text: str) -> None:
    """Answer in Slack through the click's response_url (only ever a hooks.slack.com URL)."""
    url = click.response_url
    if not url or not url.startswith("https://hooks.slack.com/"):
        log.info("slack decision", incident_id=click.incident_id, result=text)
        return
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await client.post(url, json={"text": text, "response_type": "ephemeral"})
    except httpx.HTTPError as exc:
        log.warning("slack response_url failed", error=str(exc))
