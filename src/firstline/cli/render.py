"""The incident page in the terminal (investigate, approve, resume, show, demo).

Reads the graph's state and report facts, so only commands that show an incident import it."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from firstline.cli.output import SEVERITY_STYLE, STATUS_STYLE, console
from firstline.domain.incident import TimelineEntry
from firstline.graph.report import localization_lines, next_steps
from firstline.graph.state import IncidentState

STAGE_LABEL = {
    "triage": "triage",
    "gather_evidence": "gathering evidence",
    "analyze": "analysing",
    "decide": "deciding",
    "request_approval": "requesting approval",
    "remediate": "remediating",
    "verify": "verifying",
    "resolve": "resolved",
    "escalate": "escalating",
    "conclude": "concluding",
}


class StageProgress:
    """Prints each stage as the graph finishes it."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def stage(self, name: str, _state: object) -> None:
        if name.startswith("__"):
            return
        console.print(f"{self.prefix}[dim]✓[/dim] {STAGE_LABEL.get(name, name)}")


def _header(state: IncidentState) -> Text:
    sev = state.severity.value if state.severity else "?"
    text = Text()
    text.append(f" {sev.upper()} ", style=SEVERITY_STYLE.get(sev, "bold"))
    text.append(f" {state.alert.name} ", style="bold")
    text.append(f"{state.alert.namespace or '-'}/{state.alert.service or '-'}  ")
    text.append(state.status.value, style=STATUS_STYLE.get(state.status.value, "bold"))
    text.append(f"   {state.incident_id}", style="dim")
    return text


def _hypotheses(state: IncidentState) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("conf", justify="right")
    table.add_column("hypothesis")
    table.add_column("evidence", style="dim")
    analysis = state.analysis
    for h in (analysis.hypotheses if analysis else [])[:3]:
        signals = "\n".join(f"  {s}" for s in h.signals[:4])
        guess = " [yellow](guess from the alert alone)[/yellow]" if h.basis == "alert" else ""
        table.add_row(
            f"{h.confidence:.0%}",
            f"[bold]{h.pattern}[/bold]{guess}: {h.cause}\n{signals}",
            ", ".join(h.evidence_refs),
        )
    for r in (analysis.ruled_out if analysis else [])[:3]:
        table.add_row(
            f"[dim]{r.confidence:.0%}[/dim]", f"[dim]ruled out {r.pattern}: {r.reason}[/dim]", ""
        )
    return table


def _actions(state: IncidentState) -> list[str]:
    lines = []
    if state.decision:
        d = state.decision
        lines.append(
            f"[bold]Decision[/bold] {d.outcome.value} [dim](rule {d.rule})[/dim] — {d.reason}"
        )
    if state.approval:
        a = state.approval
        verdict = "expired" if a.expired else ("approved" if a.approved else "rejected")
        lines.append(f"[bold]Approval[/bold] {verdict} by {a.by} via {a.channel} {a.comment}")
    for r in state.action_results:
        lines.append(f"[bold]Action[/bold] {r.action.describe()} → {r.status.value}: {r.detail}")
    for v in state.verifications:
        mark = "[green]passed[/green]" if v.resolved else "[red]failed[/red]"
        lines.append(f"[bold]Verify #{v.attempt}[/bold] {mark} — {v.reason}")
    if state.conclusion:
        lines.append(f"[bold]Outcome[/bold] {state.conclusion}")
    if state.status.value != "resolved":
        lines.extend(f"[bold]Next[/bold] {s}" for s in next_steps(state))
    return lines


def print_incident(state: IncidentState, timeline: list[TimelineEntry]) -> None:
    summary = state.alert.annotations.get("summary", "")
    parts: list[Any] = [Text(summary, style="italic")] if summary else []
    parts.append(_hypotheses(state))
    if state.analysis is not None:
        parts.extend(Text(line, style="dim") for line in localization_lines(state.analysis))
    parts.extend(Text.from_markup(line) for line in _actions(state))
    if state.llm_usage is not None:
        parts.append(Text(f"LLM: {state.llm_usage.describe()}", style="dim"))
    console.print(Panel(Group(*parts), title=_header(state), title_align="left"))
    if timeline:
        table = Table(title="Timeline", box=None, title_justify="left", header_style="bold")
        table.add_column("time", style="dim")
        table.add_column("stage")
        table.add_column("event")
        for entry in timeline:
            detail = f"\n[dim]{entry.detail[:160]}[/dim]" if entry.detail else ""
            table.add_row(f"{entry.at:%H:%M:%S}", entry.stage, f"{entry.event}{detail}")
        console.print(table)
    if state.status.value == "awaiting_approval":
        console.print(
            f"[bold yellow]Waiting for approval.[/bold yellow] "
            f"firstline approve {state.incident_id} --by NAME  (or --reject)"
        )
