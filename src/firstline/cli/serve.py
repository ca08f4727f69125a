"""`firstline serve`: the webhook intake service and HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from firstline.wiring.settings import Settings


def register(app: typer.Typer, settings: Callable[[], Settings]) -> None:
    @app.command("serve")
    def serve_command(
        host: Annotated[str | None, typer.Option(help="Listen address (serve.host).")] = None,
        port: Annotated[int | None, typer.Option(help="Listen port (serve.port).")] = None,
        workers: Annotated[
            int | None, typer.Option(help="Investigations at once (serve.workers).")
        ] = None,
    ) -> None:
        """Receive alerts on /webhooks/{vendor}, investigate them, serve the incident API."""
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
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(
            f"firstline serve: listening on http://{serve_settings.host}:{serve_settings.port}"
            f" ({serve_settings.workers} workers, data in {chosen.store.data_dir})",
            err=True,
        )
        try:
            asyncio.run(serve(chosen))
        except ServeConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        except KeyboardInterrupt:
            pass

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
