"""`firstline report ID`: an incident's postmortem draft, as Markdown or one HTML file
(docs/report.md)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from firstline.cli.common import JsonOpt, guard, settings
from firstline.cli.completion import incident_id_argument
from firstline.cli.output import emit_json


class Format(StrEnum):  # the choices, without importing the renderer to list them
    MD = "md"
    HTML = "html"


def report(
    given_id: Annotated[str, incident_id_argument("The incident.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="md or html.")] = Format.MD,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write report.md (with charts/*.png beside it) or report.html into this"
            " directory instead of printing it.",
            file_okay=False,
        ),
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option(
            help="A template to render with instead of the built-in one; it may extend"
            ' "builtin/postmortem.md.j2" (or .html.j2).',
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write an incident's postmortem draft (Markdown or one HTML file).

    Markdown on stdout says its charts are left out; --out DIR writes them beside it."""

    def body() -> None:  # no event loop: reading and drawing are synchronous
        from firstline.reporting.documents import IncidentReport, ReportFormat, Templates
        from firstline.store.audit import AuditLog
        from firstline.store.incidents import IncidentStore
        from firstline.store.open import open_database

        database = open_database(settings().store)
        store = IncidentStore(database)
        found = IncidentReport.load(store, AuditLog(database), store.resolve_id(given_id))
        if as_json and out is None:
            emit_json(found.postmortem)
            return
        chosen = ReportFormat(fmt.value)
        templates = Templates(directory=settings().report.templates_dir, file=template)
        rendered = found.render(chosen, templates, with_charts=out is not None)
        if out is None:
            typer.echo(rendered.text, nl=False)
            return
        written = out / f"report.{chosen.value}"
        out.mkdir(parents=True, exist_ok=True)
        for name, png in rendered.charts.items():
            (out / name).parent.mkdir(exist_ok=True)
            (out / name).write_bytes(png)
        written.write_text(rendered.text, encoding="utf-8")
        if as_json:
            emit_json(found.postmortem)
        else:
            charts = f" and {len(rendered.charts)} chart(s) in {out / 'charts'}"
            typer.echo(f"wrote {written}{charts if rendered.charts else ''}")

    guard(body, also=(OSError,))
