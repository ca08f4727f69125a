"""What every command prints through: the terminal console, its styles, JSON, and the
incident list. Light on purpose (Rich and the domain models only): `firstline incidents`
imports nothing else."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from firstline.domain.incident import IncidentSummary

console = Console()
SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}
STATUS_STYLE = {
    "resolved": "green",
    "escalated": "bold red",
    "awaiting_approval": "bold yellow",
    "dismissed": "dim",
    "recommended": "cyan",
}


def emit_json(data: Any) -> None:
    if hasattr(data, "model_dump"):  # a pydantic model (not imported: `incidents` is quick)
        data = data.model_dump(mode="json")
    typer.echo(json.dumps(data, indent=2, default=str))


WIDE = 120
SUMMARY = 100
"""From this width the list is one line an incident; narrower, two (the id never shrinks)."""


def print_incident_list(rows: list[IncidentSummary]) -> None:
    """The id is never cut or wrapped (a person copies it to approve); in a narrow terminal
    each incident takes two lines, with the summary beside them wrapping instead."""
    if not rows:
        console.print("no incidents yet")
        return
    wide = console.width >= WIDE
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id" if wide else "id / updated", no_wrap=True)
    if wide:
        table.add_column("updated", no_wrap=True)
    table.add_column("severity / status" if not wide else "severity", no_wrap=True)
    if wide:
        table.add_column("status", no_wrap=True)
    table.add_column("alert: summary", ratio=1, overflow="fold")
    for r in rows:
        updated = f"[dim]{r.updated_at:%m-%d %H:%M}[/dim]"
        status = f"[{STATUS_STYLE.get(r.status.value, 'white')}]{r.status.value}[/]"
        severity = r.severity or "-"
        summary = r.summary if len(r.summary) <= SUMMARY else r.summary[: SUMMARY - 1] + "…"
        what = f"[bold]{r.alert_name}[/bold]: {summary}"
        if wide:
            table.add_row(r.id, updated, severity, status, what)
        else:
            table.add_row(f"{r.id}\n{updated}", f"{severity}\n{status}", what)
    console.print(table)
