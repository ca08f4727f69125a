"""Building and running the service from settings: `firstline serve`."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import structlog
import uvicorn

from firstline.errors import InvalidInput
from firstline.intake.registry import PARSERS
from firstline.service.access_log import install_access_log
from firstline.service.app import create_app, create_worker_app
from firstline.service.auth import Authenticator, HttpSnsCertificates, SnsCertificates
from firstline.service.context import ServiceContext, SubscriptionConfirmer
from firstline.service.metrics import ServiceMetrics
from firstline.store.audit import AuditLog
from firstline.store.intake import IntakeStore
from firstline.store.open import open_database
from firstline.wiring.logs import setup_logging
from firstline.wiring.runtime import LLM_USAGE, open_runtime
from firstline.wiring.settings import Settings

log = structlog.get_logger(__name__)


class ServeConfigError(InvalidInput, ValueError):
    """The serve settings cannot make a working server; the message names the field."""


class HttpSubscriptionConfirmer:
    """Confirms an SNS subscription by GETting its SubscribeURL. The parser has already
    refused any URL that is not https on an SNS host, so this cannot be aimed elsewhere."""

    async def confirm(self, subscribe_url: str) -> bool:
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.get(subscribe_url)
        except httpx.HTTPError as exc:
            log.warning("sns subscription confirmation failed", error=str(exc))
            return False
        return answer.status_code == 200


def check_serve_settings(settings: Settings) -> None:
    """Refuse to start with an endpoint anyone could post to, unless told to."""
    serve = settings.serve
    unknown = [v for v in serve.enabled_webhooks if v not in PARSERS]
    if unknown:
        raise ServeConfigError(f"serve.enabled_webhooks: unknown vendor(s) {', '.join(unknown)}")
    if serve.allow_unauthenticated:
        return
    open_ = [v for v in serve.enabled_webhooks if not serve.auth_for(v).configured()]
    if open_:
        raise ServeConfigError(
            f"no webhook authentication configured for {', '.join(open_)}: set"
            " FIRSTLINE_SERVE__AUTH__BEARER_TOKENS='[\"...\"]' (or per vendor under serve.webhooks),"
            " or serve.allow_unauthenticated=true for a local trial"
        )


@asynccontextmanager
async def open_service(
    settings: Settings,
    *,
    certificates: SnsCertificates | None = None,
    confirmer: SubscriptionConfirmer | None = None,
    scenario: Path | None = None,
) -> AsyncIterator[ServiceContext]:
    """The service's shared parts. `scenario` replays a bundle's world instead of live
    backends (demos and tests)."""
    check_serve_settings(settings)
    serve = settings.serve
    intake = IntakeStore(
        open_database(
            settings.store,
            per_thread=True,
            busy_timeout_seconds=serve.store_busy_timeout_seconds,
            durable_fsync=serve.durable_fsync,
        )
    )
    ctx: ServiceContext | None = None
    try:
        async with open_runtime(
            settings,
            scenario=scenario,
            grouped_alerts=intake.alerts_of,
            drain_notifications=False,  # the server runs its own delivery worker
        ) as rt:
            ctx = ServiceContext(
                settings=serve,
                intake=intake,
                store=rt.store,
                runner=rt.runner,
                authenticator=Authenticator(serve, certificates or HttpSnsCertificates()),
                metrics=ServiceMetrics(
                    intake.queue_depth,
                    AuditLog(intake.db).head,
                    oldest_queued_at=intake.oldest_queued_at,
                ),
                confirmer=confirmer or HttpSubscriptionConfirmer(),
                delivery=rt.delivery,
                ingest_writers=ThreadPoolExecutor(
                    intake.db.concurrent_writers, thread_name_prefix="firstline-ingest"
                ),
                slack_signing_secret=settings.notify.slack.signing_secret,
                slack_principals=settings.notify.slack.principals,
                llm_usage=LLM_USAGE,
                lease_seconds=settings.store.lease_seconds,
                store_settings=settings.store,
                report_templates=settings.report.templates_dir,
            )
            yield ctx
    finally:
        if ctx is not None:
            ctx.ingest_writers.shutdown(wait=True)
        intake.close()


async def serve(settings: Settings, *, workers: bool = True, worker_only: bool = False) -> None:
    """`firstline serve` (intake and API, with workers unless `workers` is off), or with
    `worker_only` `firstline worker` (workers, health and metrics) on serve.host:port."""
    setup_logging(settings, serving=True)
    async with open_service(settings) as ctx:
        app = create_worker_app(ctx) if worker_only else create_app(ctx, start_workers=workers)
        # Everything loaded so far (modules, schemas, the compiled graph) lives as long as
        # the process: moved out of the collector's sight, a full collection scans only
        # what requests and runs made since. Without it, one full collection during a
        # storm paused every thread for ~200 ms, /healthz included
        # (benchmarks/healthz_under_ingest.py).
        gc.collect()
        gc.freeze()
        config = uvicorn.Config(
            install_access_log(app, settings.log.access_log),
            host=settings.serve.host,
            port=settings.serve.port,
            # uvicorn's loggers propagate to the root logger set up above (one renderer,
            # one level); its own access log lacks the duration, ours replaces it
            log_config=None,
            log_level=None,
            access_log=False,
            lifespan="on",
        )
        await uvicorn.Server(config).serve()
