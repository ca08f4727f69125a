"""The full incident page in the terminal (`show --full`), and what the one-screen page
(cli/brief.py) shares with it: the header, the decision and action lines, stage progress.

Reads the graph's state and report facts, so only commands that show an incident import it.
The id is never in a panel's title, where a narrow terminal would cut it: it is the thing
a person copies to approve."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from firstline.cli.output import SEVERITY_STYLE, STATUS_STYLE, console
from firstline.cli.terminal_text import short_images
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


def header(state: IncidentState) -> Text:
    sev = state.severity.value if state.severity else "?"
    text = Text()
    text.append(f" {sev.upper()} ", style=SEVERITY_STYLE.get(sev, "bold"))
    text.append(f" {state.alert.name} ", style="bold")
    text.append(f"{state.alert.namespace or '-'}/{state.alert.service or '-'}  ")
    text.append(state.status.value, style=STATUS_STYLE.get(state.status.value, "bold"))
    return text


def id_line(state: IncidentState) -> Text:
    text = Text(state.incident_id, style="bold")
    text.append(f"   fired {state.alert.starts_at:%Y-%m-%d %H:%M} UTC", style="dim")
    return text


def _hypotheses(state: IncidentState) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("conf", justify="right", no_wrap=True)
    # fold, not "…": a long image reference keeps its tag, on the next line
    table.add_column("hypothesis", overflow="fold")
    analysis = state.analysis
    for h in (analysis.hypotheses if analysis else [])[:3]:
        signals = "".join(f"\n  {s}" for s in h.signals[:4])
        cited = f"\n  [dim]evidence: {', '.join(h.evidence_refs)}[/dim]" if h.evidence_refs else ""
        guess = " [yellow](guess from the alert alone)[/yellow]" if h.basis == "alert" else ""
        table.add_row(
            f"{h.confidence:.0%}", f"[bold]{h.pattern}[/bold]{guess}: {h.cause}{signals}{cited}"
        )
    for r in (analysis.ruled_out if analysis else [])[:3]:
        table.add_row(
            f"[dim]{r.confidence:.0%}[/dim]", f"[dim]ruled out {r.pattern}: {r.reason}[/dim]"
        )
    return table


Line = tuple[str, str]
"""A label ("Decision", "Next") and its text, in Rich markup."""


def action_lines(state: IncidentState) -> list[Line]:
    lines: list[Line] = []
    if state.decision:
        d = state.decision
        lines.append(("Decision", f"{d.outcome.value} [dim](rule {d.rule})[/dim] — {d.reason}"))
    if state.approval:
        a = state.approval
        verdict = "expired" if a.expired else ("approved" if a.approved else "rejected")
        comment = f": {a.comment}" if a.comment else ""
        lines.append(("Approval", f"{verdict} by {a.by} via {a.channel}{comment}"))
    for r in state.action_results:
        lines.append(("Action", f"{r.action.describe()} → {r.status.value}: {r.detail}"))
    for v in state.verifications:
        mark = "[green]passed[/green]" if v.resolved else "[red]failed[/red]"
        lines.append((f"Verify #{v.attempt}", f"{mark} — {v.reason}"))
    if state.conclusion:
        lines.append(("Outcome", state.conclusion))
    return lines


def next_lines(state: IncidentState, steps: int | None = None) -> list[Line]:
    """What a person does next, the command to type first; then the report's next steps
    (`steps` of them at most, and how many more there are)."""
    lines: list[Line] = []
    status = state.status
    if status.value == "awaiting_approval":
        command = f"firstline approve {state.incident_id} --by NAME"
        lines.append(("Next", f"[bold]{command}[/bold]\n[dim](add --reject to refuse)[/dim]"))
    elif not status.final:
        command = f"firstline resume {state.incident_id}"
        lines.append(("Next", f"if its run stopped (a crash): [bold]{command}[/bold]"))
    if status.value != "resolved":
        report = next_steps(state)
        lines.extend(("Next", s) for s in report[:steps])
        if steps is not None and len(report) > steps:
            more = len(report) - steps
            lines.append(("", f"[dim]… {more} more step(s) in --full[/dim]"))
    else:  # nothing left to do: where to read what was done
        lines.append(("Audit", f"[bold]firstline audit show {state.incident_id}[/bold]"))
    return lines


def print_incident(state: IncidentState, timeline: list[TimelineEntry]) -> None:
    """Everything: all hypotheses and what was ruled out, every timeline entry."""
    console.print(header(state))
    console.print(id_line(state))
    summary = state.alert.annotations.get("summary", "")
    parts: list[Any] = [Text(summary, style="italic")] if summary else []
    parts.append(_hypotheses(state))
    if state.analysis is not None:
        parts.extend(Text(line, style="dim") for line in localization_lines(state.analysis))
    parts.extend(
        Text.from_markup(f"[bold]{label}[/bold] {text}")
        for label, text in [*action_lines(state), *next_lines(state)]
    )
    if state.llm_usage is not None:
        parts.append(Text(f"LLM: {state.llm_usage.describe()}", style="dim"))
    console.print(Panel(Group(*parts)))
    if timeline:
        console.print(timeline_table(timeline, "Timeline"))
    console.print(f"[dim]audit trail: firstline audit show {state.incident_id}[/dim]")


def timeline_table(
    timeline: list[TimelineEntry], title: str, detail: int = 160, brief: bool = False
) -> Table:
    """`brief`: without the details, images shortened (the one-screen page)."""
    table = Table(title=title, box=None, title_justify="left", header_style="bold")
    table.add_column("time", style="dim", no_wrap=True)
    table.add_column("stage", no_wrap=True)
    table.add_column("event", overflow="fold")
    for entry in timeline:
        if brief:
            table.add_row(f"{entry.at:%H:%M:%S}", entry.stage, short_images(entry.event))
            continue
        cut = entry.detail[:detail] + ("…" if len(entry.detail) > detail else "")
        shown = f"\n[dim]{cut}[/dim]" if entry.detail else ""
        table.add_row(f"{entry.at:%H:%M:%S}", entry.stage, f"{entry.event}{shown}")
    return table
