"""What every command prints through: the terminal console, its styles, JSON, and the
incident list. Light on purpose (Rich and the domain models only): `firstline incidents`
imports nothing else."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
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


def print_incident_list(rows: list[IncidentSummary]) -> None:
    if not rows:
        console.print("no incidents yet")
        return
    table = Table(header_style="bold")
    for column in ("id", "alert", "severity", "status", "updated", "summary"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.id,
            r.alert_name,
            r.severity or "-",
            f"[{STATUS_STYLE.get(r.status.value, 'white')}]{r.status.value}[/]",
            f"{r.updated_at:%Y-%m-%d %H:%M}",
            r.summary[:60],
        )
    console.print(table)
