"""`firstline serve`: the webhook intake service and HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from firstline.cli.common import error_kind, fail, one_line

if TYPE_CHECKING:
    from firstline.store.settings import StoreSettings
    from firstline.wiring.settings import Settings


def register(app: typer.Typer, settings: Callable[[], Settings]) -> None:
    @app.command("serve")
    def serve_command(
        host: Annotated[str | None, typer.Option(help="Listen address (serve.host).")] = None,
        port: Annotated[int | None, typer.Option(help="Listen port (serve.port).")] = None,
        workers: Annotated[
            int | None, typer.Option(help="Investigations at once (serve.workers).")
        ] = None,
        no_workers: Annotated[
            bool,
            typer.Option(
                "--no-workers",
                help="Intake and API only; `firstline worker` replicas investigate.",
            ),
        ] = False,
    ) -> None:
        """Receive alerts on /webhooks/{vendor}, investigate them, serve the incident API."""
        _run_server(settings, "serve", host, port, workers, with_workers=not no_workers)

    @app.command("worker")
    def worker_command(
        host: Annotated[str | None, typer.Option(help="Listen address (serve.host).")] = None,
        port: Annotated[int, typer.Option(help="Port of /healthz, /readyz and /metrics.")] = 8081,
        workers: Annotated[
            int | None, typer.Option(help="Investigations at once (serve.workers).")
        ] = None,
    ) -> None:
        """Investigate queued incidents, sweep approvals, deliver notifications.

        Beside any number of other workers on the same PostgreSQL store (store.url)."""
        _run_server(settings, "worker", host, port, workers, with_workers=True)

    @app.command("openapi")
    def openapi_command() -> None:
        """Print the HTTP API's OpenAPI document (also published as docs/openapi.json)."""
        import asyncio
        import json
        import tempfile
        from pathlib import Path

        from firstline.service.app import create_app
        from firstline.wiring.serve import open_service

        async def spec() -> dict[str, object]:
            with tempfile.TemporaryDirectory() as scratch:
                chosen = settings()
                chosen = chosen.model_copy(
                    update={
                        "store": chosen.store.model_copy(update={"data_dir": Path(scratch)}),
                        "serve": chosen.serve.model_copy(update={"allow_unauthenticated": True}),
                    }
                )
                async with open_service(chosen) as ctx:
                    return create_app(ctx, start_workers=False).openapi()

        typer.echo(json.dumps(asyncio.run(spec()), indent=2, sort_keys=True))


def _run_server(
    settings: Callable[[], Settings],
    role: str,
    host: str | None,
    port: int | None,
    workers: int | None,
    *,
    with_workers: bool,
) -> None:
    import asyncio

    from firstline.wiring.serve import ServeConfigError, check_serve_settings, serve

    chosen = settings()
    given = {"host": host, "port": port, "workers": workers}
    overrides = {k: v for k, v in given.items() if v is not None}
    serve_settings = chosen.serve.model_validate({**chosen.serve.model_dump(), **overrides})
    chosen = chosen.model_copy(update={"serve": serve_settings})
    try:
        check_serve_settings(chosen)
    except ServeConfigError as exc:
        fail(error_kind(exc), one_line(exc))
    store = chosen.store
    where = f"store {_store_location(store)}"
    doing = f"{serve_settings.workers} workers" if with_workers else "no workers"
    typer.echo(
        f"firstline {role}: listening on http://{serve_settings.host}:{serve_settings.port}"
        f" ({doing}, {where})",
        err=True,
    )
    try:
        asyncio.run(serve(chosen, workers=with_workers, worker_only=role == "worker"))
    except ServeConfigError as exc:
        fail(error_kind(exc), one_line(exc))
    except KeyboardInterrupt:
        pass


def _store_location(store: StoreSettings) -> str:
    url = store.postgres_url
    if url is None:
        return str(store.data_dir)
    from firstline.store.postgres import redacted

    return redacted(url)
