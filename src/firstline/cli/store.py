"""`firstline store compact`: delete what the store no longer needs and give the space back
(store/retention.py, docs/storage.md).

Registered onto the main app by `register(app, settings)`. Light at the top: the store and
the checkpointer are imported when the command runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from firstline.cli.base import FirstlineApp
from firstline.cli.common import JsonOpt, run

if TYPE_CHECKING:
    from firstline.store.retention import CompactionReport
    from firstline.wiring.settings import Settings


def register(app: typer.Typer, settings: Callable[[], Settings]) -> None:
    store_app = FirstlineApp(help="Maintenance of the incident store.", no_args_is_help=True)

    @store_app.command("compact")
    def compact_command(
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Say what would go; change nothing.")
        ] = False,
        vacuum: Annotated[
            bool,
            typer.Option(
                "--vacuum",
                help="Also rewrite both SQLite files (VACUUM): returns every free page and"
                " switches them to incremental vacuum; needs free disk as large as the files"
                " and blocks writers while it runs.",
            ),
        ] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Delete finished runs' checkpoints and, with store.retention_days, incidents over
        for that long (never the audit trail); print what went and the bytes reclaimed."""

        async def body() -> CompactionReport:
            from datetime import UTC, datetime

            from firstline.store.checkpoints import sqlite_checkpointer
            from firstline.store.intake import IntakeStore
            from firstline.store.retention import Vacuum, compact

            store = settings().store
            if not store.incidents_db.exists():
                raise ValueError(f"no incident store at {store.incidents_db}")
            intake = IntakeStore(store.incidents_db)
            try:
                # no types to revive: compaction deletes checkpoints, it never reads them
                async with sqlite_checkpointer(store.checkpoints_db, []) as saver:
                    return await compact(
                        intake=intake,
                        checkpointer=saver,
                        now=datetime.now(UTC),
                        settings=store,
                        dry_run=dry_run,
                        limit=None,
                        vacuum=Vacuum.FULL if vacuum else Vacuum.AUTO,
                    )
            finally:
                intake.close()

        report = run(body)
        if as_json:
            from firstline.cli.output import emit_json

            emit_json(report.as_json())
        else:
            _print(report)

    app.add_typer(store_app, name="store")


def _print(report: CompactionReport) -> None:
    would = "would be " if report.dry_run else ""
    echo = typer.echo
    echo(f"checkpoints of finished runs {would}deleted: {len(report.checkpoints_deleted)}")
    if report.checkpoints_kept:
        echo(
            f"checkpoints kept: {len(report.checkpoints_kept)} (final incidents whose run can"
            " still be resumed)"
        )
    if report.retention_days is None:
        echo("incidents kept: all (store.retention_days is not set)")
    else:
        echo(
            f"incidents over for {report.retention_days} days {would}deleted:"
            f" {len(report.incidents_deleted)}"
        )
        rows = ", ".join(f"{table} {n}" for table, n in report.rows_deleted.items() if n)
        if rows:
            echo(f"rows {would}deleted: {rows}")
        if report.alerts_detached:
            echo(f"still-firing alerts kept, their incident unset: {report.alerts_detached}")
        echo(f"audit records kept (never deleted): {report.audit_records_kept}")
    if report.more:
        echo("more is left: run again")
    for space in report.space:
        echo(
            f"{space.path}: {_size(space.bytes_before)} -> {_size(space.bytes_after)}"
            f" (reclaimed {_size(space.reclaimed)}, vacuum {space.vacuum},"
            f" {_size(space.free_bytes)} free inside for reuse)"
        )
    idle = sum(f.free_bytes for f in report.space if f.vacuum == "none")
    if idle:
        echo(f"{_size(idle)} stay free inside files not in incremental mode: --vacuum returns them")
    if report.dry_run:
        echo("dry run: nothing was changed")
    else:
        echo(f"bytes reclaimed: {report.bytes_reclaimed}")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"
