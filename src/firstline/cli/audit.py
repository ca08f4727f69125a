"""`firstline audit verify` and `firstline audit show INCIDENT_ID`: the audit log from the
command line (docs/audit.md).

Registered onto the main app by `register(app, settings)`. `verify` exits 0 when the chain
holds and 1 with one line naming the first broken record when it does not; user errors are
one `error: ...` line and exit code 2, as everywhere in the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from firstline.cli.base import FirstlineApp
from firstline.cli.common import JsonOpt, fail, guard
from firstline.cli.completion import incident_id_argument

if TYPE_CHECKING:
    from firstline.store.audit import AuditLog
    from firstline.wiring.settings import Settings


def _incident_of_records(audit_log: AuditLog, given: str) -> str:
    """The full id `given` starts; itself when no incident has it (the audit trail
    outlives the incidents that retention deleted)."""
    from firstline.store.incidents import IncidentStore, UnknownIncident

    try:
        return IncidentStore(audit_log.db).resolve_id(given)
    except UnknownIncident:
        return given


def register(app: typer.Typer, settings: Callable[[], Settings]) -> None:
    audit_app = FirstlineApp(help="The append-only, hash-chained audit log.", no_args_is_help=True)

    def log() -> AuditLog:
        chosen = settings().store
        path = chosen.incidents_db
        if chosen.url is None and not path.exists():
            fail("not_found", f"no incident store at {path}")
        from firstline.store.audit import AuditLog
        from firstline.store.open import open_database

        return AuditLog(open_database(chosen))

    @audit_app.command("verify")
    def verify(
        as_json: JsonOpt = False,
        anchor: Annotated[
            str | None,
            typer.Option(
                help="An earlier head, <count>:<hash> (printed here, logged with each append,"
                " on /metrics), kept where this file's writers cannot reach: the chain must"
                " still hold that hash at that record."
            ),
        ] = None,
    ) -> None:
        """Check the whole hash chain and its head; exit 1 naming the first broken record."""
        try:
            from firstline.store.audit import Head

            anchored = Head.parse(anchor) if anchor is not None else None
        except ValueError as exc:
            fail("invalid_value", f"--anchor: {exc}")
        check = guard(lambda: log().verify(anchored))
        if as_json:
            payload = check.model_dump(mode="json")
            payload["anchor"] = f"{check.records}:{check.head_hash}"
            typer.echo(json.dumps(payload, indent=2))
        elif check.ok:
            typer.echo(
                f"audit log ok: {check.records} record(s), head {check.head_hash[:16]}"
                f" (anchor {check.records}:{check.head_hash})"
            )
        else:
            typer.echo(f"audit log broken at seq {check.broken_seq}: {check.error}", err=True)
        if not check.ok:
            raise typer.Exit(1)

    @audit_app.command("show")
    def show(
        given_id: Annotated[str, incident_id_argument("The incident.")],
        as_json: JsonOpt = False,
    ) -> None:
        """Print an incident's audit records, oldest first."""
        audit_log = log()
        incident_id = guard(lambda: _incident_of_records(audit_log, given_id))
        records = guard(lambda: audit_log.records(incident_id))
        if not records:
            fail("not_found", f"no audit records for incident {incident_id!r}")
        if as_json:
            payload: list[dict[str, Any]] = [r.model_dump(mode="json") for r in records]
            typer.echo(json.dumps(payload, indent=2))
            return
        from firstline.reporting.audit_lines import audit_line

        # kind above actor, details folding rather than cut: readable at 80 columns
        table = Table(title=f"audit: {incident_id}", box=box.SIMPLE_HEAD, title_justify="left")
        table.add_column("seq", justify="right", no_wrap=True)
        table.add_column("at (UTC)", no_wrap=True)
        table.add_column("kind / actor", no_wrap=True)
        table.add_column("details", ratio=1, overflow="fold")
        for r in records:
            at = r.at[:19].replace("T", " ")
            table.add_row(str(r.seq), at, f"{r.kind}\n[dim]{r.actor}[/dim]", audit_line(r))
        Console().print(table)

    app.add_typer(audit_app, name="audit")
