"""`firstline check`: probe each configured evidence backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from firstline.cli.common import JsonOpt, run, settings
from firstline.cli.output import console, emit_json

if TYPE_CHECKING:
    from firstline.wiring.checks import BackendCheck


def check(as_json: JsonOpt = False) -> None:
    """Probe each configured evidence backend: enabled, disabled or failed (with the reason)."""

    async def body() -> None:
        from firstline.wiring.checks import CheckStatus, check_backends
        from firstline.wiring.runtime import build_live_source

        cfg = settings()
        results = await check_backends(build_live_source(cfg), cfg.sources.source_timeout_seconds)
        if as_json:
            emit_json([r.model_dump(mode="json") for r in results])
        else:
            print_checks(results)
        if any(r.status is CheckStatus.FAILED for r in results):
            raise typer.Exit(1)

    run(body)


def print_checks(results: list[BackendCheck]) -> None:
    style = {"ok": "green", "disabled": "dim", "failed": "bold red"}
    table = Table(header_style="bold")
    for column in ("backend", "status", "detail"):
        table.add_column(column)
    for r in results:
        timing = f" ({r.seconds * 1000:.0f} ms)" if r.seconds is not None else ""
        table.add_row(r.backend, f"[{style[r.status.value]}]{r.status.value}[/]", r.detail + timing)
    console.print(table)
