"""POST /webhooks/{vendor}: authenticate, validate, persist, then acknowledge.

The answer is sent only after the delivery's transaction has committed, so a 2xx means the
alerts are on disk. A locked store answers 429 with Retry-After and an unwritable one 503
with Retry-After, having stored nothing either way, so the sender's retry cannot create
duplicates (a retried delivery is deduplicated anyway).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from firstline.domain.alert import Alert
from firstline.errors import FirstlineError
from firstline.intake import cloudwatch
from firstline.intake.errors import AlertParseError
from firstline.intake.grouping import group_key
from firstline.intake.registry import PARSERS
from firstline.service.bodies import check_content_type, decode_json, read_body
from firstline.service.context import ServiceContext
from firstline.service.problems import Problem, documented
from firstline.store.errors import StoreBusy, StoreError
from firstline.store.intake import IngestResult, Outcome

log = structlog.get_logger(__name__)


class IngestAnswer(BaseModel):
    received: int = Field(description="Alerts in the delivery, all stored.")
    new_incidents: int = 0
    joined: int = Field(default=0, description="New alerts that joined an open incident.")
    updated: int = Field(default=0, description="Repeats of firing alerts.")
    resolved: int = 0
    self_resolved: int = Field(
        default=0, description="Incidents closed because all alerts resolved before investigation."
    )
    incidents: list[str] = Field(default_factory=list, description="Incident ids touched.")
    subscription_confirmed: str | None = Field(
        default=None, description="cloudwatch: the SNS topic whose subscription was confirmed."
    )


def _answer(result: IngestResult) -> IngestAnswer:
    return IngestAnswer(
        received=len(result.outcomes),
        new_incidents=result.count(Outcome.NEW_INCIDENT),
        joined=result.count(Outcome.JOINED),
        updated=result.count(Outcome.UPDATED),
        resolved=result.count(Outcome.RESOLVED) + result.count(Outcome.RESOLVED_UNKNOWN),
        self_resolved=result.count(Outcome.SELF_RESOLVED),
        incidents=sorted({i for i in result.incidents if i}),
    )


_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "The vendor's webhook payload (docs/intake.md).",
    }
}


def webhook_router(ctx: ServiceContext) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    for vendor in ctx.settings.enabled_webhooks:
        router.add_api_route(
            f"/webhooks/{vendor}",
            _handler(ctx, vendor),
            methods=["POST"],
            status_code=202,
            response_model=IngestAnswer,
            responses={
                200: {"model": IngestAnswer, "description": "SNS subscription confirmed."},
                **documented(400, 401, 408, 413, 415, 422, 429, 503),
            },
            openapi_extra=_REQUEST_BODY,
            summary=f"Receive {vendor} alerts",
            name=f"webhook_{vendor}",
        )
    return router


def _handler(ctx: ServiceContext, vendor: str) -> Any:
    parser = PARSERS[vendor]
    also = ("text/plain",) if vendor == "cloudwatch" else ()  # SNS posts text/plain

    async def receive(request: Request) -> JSONResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await _receive(ctx, vendor, parser, also, request)
            status = response.status_code
            return response
        except FirstlineError as exc:  # answered by the app's handler (problems.py)
            status = exc.status
            if status == 401:
                ctx.metrics.alerts_received.labels(vendor, "rejected_auth").inc()
            raise
        finally:
            ctx.metrics.webhook_requests.labels(vendor, str(status)).inc()
            ctx.metrics.ingest_seconds.labels(vendor).observe(time.perf_counter() - started)

    receive.__name__ = f"webhook_{vendor}"
    return receive


async def _receive(
    ctx: ServiceContext, vendor: str, parser: Any, also: tuple[str, ...], request: Request
) -> JSONResponse:
    body = await read_body(
        request, ctx.settings.max_body_bytes, ctx.settings.body_read_timeout_seconds
    )
    if not await ctx.authenticator.webhook(vendor, request.headers, body):
        raise Problem(401, "unauthorized")
    check_content_type(request, also=also)
    # a delivery of thousands of alerts is megabytes of JSON: decoded off the loop
    payload = (
        decode_json(body) if len(body) < 65_536 else await asyncio.to_thread(decode_json, body)
    )
    if vendor == "cloudwatch":
        confirmed = await _maybe_confirm(ctx, payload)
        if confirmed is not None:
            return JSONResponse(
                IngestAnswer(received=0, subscription_confirmed=confirmed).model_dump(),
                status_code=200,
            )
    try:
        # parsing thousands of alerts is CPU work: off the loop, like the write below
        alerts: list[Alert] = await asyncio.to_thread(parser, payload)
    except AlertParseError:  # 422
        ctx.metrics.alerts_received.labels(vendor, "rejected_invalid").inc()
        raise
    cap = ctx.settings.max_alerts_per_delivery
    if len(alerts) > cap:
        ctx.metrics.alerts_received.labels(vendor, "rejected_too_many").inc(len(alerts))
        raise Problem(
            413,
            f"{len(alerts)} alerts in one delivery exceed serve.max_alerts_per_delivery ({cap})",
        )
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(ctx.ingest_writers, _store, ctx, vendor, alerts)
    if result.count(Outcome.NEW_INCIDENT):
        ctx.work_available.set()
    for outcome, count in Counter(result.outcomes).items():
        ctx.metrics.alerts_received.labels(vendor, outcome.value).inc(count)
    return JSONResponse(_answer(result).model_dump(), status_code=202)


def _store(ctx: ServiceContext, vendor: str, alerts: list[Alert]) -> IngestResult:
    keys = [group_key(a, ctx.settings.group_by) for a in alerts]
    window = timedelta(seconds=ctx.settings.group_window_seconds)
    try:
        result = ctx.intake.ingest(alerts, keys, now=ctx.clock(), group_window=window)
    except StoreError as exc:  # 429 or 503 with Retry-After
        busy = isinstance(exc, StoreBusy)
        ctx.metrics.alerts_received.labels(vendor, "throttled" if busy else "unavailable").inc(
            len(alerts)
        )
        log.warning("store failed; nothing stored", error=str(exc), status=exc.status)
        raise
    _log_intake(vendor, alerts, result)
    return result


# what intake did with an alert, as the stage line that says it
_INTAKE_EVENTS = {
    Outcome.NEW_INCIDENT: "alert_received",
    Outcome.JOINED: "alert_deduplicated",
    Outcome.UPDATED: "alert_deduplicated",
    Outcome.RESOLVED: "alert_resolved",
    Outcome.SELF_RESOLVED: "alert_resolved",
    Outcome.RESOLVED_UNKNOWN: "alert_resolved",
}


def _log_intake(vendor: str, alerts: list[Alert], result: IngestResult) -> None:
    """One line per incident and outcome, not per alert: a storm of a thousand repeats of
    one alert is one line. Runs in the ingest thread, off the server's loop."""
    grouped: dict[tuple[str, Outcome], list[Alert]] = {}
    for alert, outcome, incident_id in zip(alerts, result.outcomes, result.incidents, strict=False):
        grouped.setdefault((incident_id, outcome), []).append(alert)
    for (incident_id, outcome), same in grouped.items():
        log.info(
            _INTAKE_EVENTS[outcome],
            incident_id=incident_id or None,
            outcome=outcome.value,
            vendor=vendor,
            alert=same[0].name,
            service=same[0].service,
            severity=same[0].labels.get("severity"),
            alerts=len(same),
        )


async def _maybe_confirm(ctx: ServiceContext, payload: Any) -> str | None:
    parsed = cloudwatch.parse_envelope(payload)  # AlertParseError: 422
    if not isinstance(parsed, cloudwatch.SubscriptionConfirmation):
        return None
    if not await ctx.confirmer.confirm(parsed.subscribe_url):
        raise Problem(422, "could not confirm the SNS subscription at its SubscribeURL")
    return parsed.topic_arn
