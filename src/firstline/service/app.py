"""The FastAPI app: webhooks, the incident API, the web console, health, readiness and
/metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from firstline import __version__
from firstline.delivery.prometheus import register_delivery_metrics
from firstline.reasoning.llm.metrics import LLMUsageCollector
from firstline.service.api import api_router
from firstline.service.console.routes import mount_console
from firstline.service.context import ServiceContext
from firstline.service.problems import install_handlers
from firstline.service.slack import slack_router
from firstline.service.webhooks import webhook_router
from firstline.service.workers import WorkerPool
from firstline.store.errors import StoreBusy


class Health(BaseModel):
    status: str
    detail: str = ""


def create_app(ctx: ServiceContext, *, start_workers: bool = True) -> FastAPI:
    """Intake, the incident API and Slack; with `start_workers`, the investigation workers
    too (`firstline serve`; `serve --no-workers` leaves them to `firstline worker`)."""
    pool = WorkerPool(ctx, sweep_interval_seconds=ctx.settings.approval_sweep_seconds)
    app = _base_app(
        ctx, pool, start_workers, "Alert intake webhooks and the incident API of firstline"
        " (docs/api.md)."
    )  # fmt: skip
    install_handlers(app, retry_after_seconds=ctx.settings.retry_after_seconds)
    app.include_router(webhook_router(ctx))
    app.include_router(api_router(ctx, pool))
    app.include_router(slack_router(ctx, pool))
    mount_console(app, ctx, pool)
    _health_routes(app, ctx, pool, start_workers)
    return app


def create_worker_app(ctx: ServiceContext) -> FastAPI:
    """`firstline worker`: the workers, with only health, readiness and /metrics."""
    pool = WorkerPool(ctx, sweep_interval_seconds=ctx.settings.approval_sweep_seconds)
    app = _base_app(ctx, pool, True, "A firstline worker: health and metrics only.")
    _health_routes(app, ctx, pool, True)
    return app


def _base_app(ctx: ServiceContext, pool: WorkerPool, start_workers: bool, about: str) -> FastAPI:
    delivery = ctx.delivery if ctx.delivery is not None and ctx.delivery.enabled else None
    ctx.metrics.registry.register(LLMUsageCollector(ctx.llm_usage))
    ctx.metrics.workers_alive.set_function(pool.live_workers)
    if delivery is not None:
        register_delivery_metrics(
            delivery.worker.counters, delivery.worker.outbox, ctx.metrics.registry
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_workers:
            await pool.start()
        try:
            yield
        finally:
            await pool.stop()

    app = FastAPI(title="firstline", version=__version__, description=about, lifespan=lifespan)
    # Paths are exact: an incident id that decodes to "/" (`%2F`) must be a 404, not a
    # redirect to the incident list; a trailing slash is a 404 too.
    app.router.redirect_slashes = False
    app.state.pool = pool
    return app


def _health_routes(app: FastAPI, ctx: ServiceContext, pool: WorkerPool, workers: bool) -> None:
    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:  # on the loop itself: its health is what liveness asks
        """Liveness: the process answers."""
        return Health(status="ok")

    @app.get(
        "/readyz",
        response_model=Health,
        tags=["health"],
        responses={503: {"model": Health, "description": "Store or workers not ready."}},
    )
    def readyz() -> Response:
        """Readiness: the store can be read and written now, and the workers run. A busy
        store is ready (writes wait their turn); an unwritable one is not, until it is
        writable again."""
        try:
            ctx.intake.ping(ctx.clock())
        except StoreBusy:
            pass
        except Exception as exc:  # any other store failure means "do not send traffic here"
            return JSONResponse(Health(status="unready", detail=f"store: {exc}").model_dump(), 503)
        if workers and not pool.alive:
            return JSONResponse(
                Health(status="unready", detail="workers stopped").model_dump(), 503
            )
        return JSONResponse(Health(status="ready").model_dump())

    @app.get(
        "/metrics",
        tags=["health"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
    )
    def metrics() -> Response:
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)
