"""Rich terminal rendering of incidents, lists and eval results, plus their JSON forms."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from firstline.domain.incident import IncidentSummary, TimelineEntry
from firstline.evaluation.scenarios import EvalReport, ScenarioResult
from firstline.graph.report import localization_lines, next_steps
from firstline.graph.state import IncidentState
from firstline.wiring.checks import BackendCheck

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


class EvalProgress:
    def add(self, r: ScenarioResult) -> None:
        mark = "[green]✓[/green]" if r.passed else "[red]✗[/red]"
        console.print(
            f"{mark} {r.scenario:<44} {r.predicted_pattern:<28} {r.confidence:4.0%}  "
            f"{r.decision:<17} {r.final_status}"
        )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def print_eval(result: EvalReport) -> None:
    failed = [r for r in result.results if not r.passed]
    for r in failed:
        problems = []
        if not r.pattern_ok:
            problems.append(f"pattern {r.predicted_pattern} != {r.expected_pattern}")
        if not r.decision_ok:
            problems.append(f"decision {r.decision} != {r.expected_decision}")
        if not r.severity_ok:
            problems.append("severity")
        if r.component_ok is False:
            problems.append("component")
        if not r.actions_ok:
            problems.append(f"actions {r.actions}")
        if r.resolved_ok is False:
            problems.append(f"final status {r.final_status}")
        if r.unsafe_actions:
            problems.append(f"UNSAFE {r.unsafe_actions}")
        console.print(f"[red]{r.scenario}[/red]: {'; '.join(problems)}")
    table = Table(
        title=f"{result.passed}/{result.scenarios} scenarios as expected",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in (
        ("pattern accuracy", _pct(result.pattern_accuracy)),
        ("top-1 of the ranking", _pct(result.top1_accuracy)),
        ("top-3 of the ranking", _pct(result.top3_accuracy)),
        ("severity accuracy", _pct(result.severity_accuracy)),
        ("root-cause component accuracy", _pct(result.component_accuracy)),
        ("decision accuracy", _pct(result.decision_accuracy)),
        ("action accuracy", _pct(result.action_accuracy)),
        ("resolution accuracy", _pct(result.resolution_accuracy)),
        (
            "Brier score (top hypothesis)",
            f"{result.brier:.3f}" if result.brier is not None else "-",
        ),
        (
            "Brier score (all candidates)",
            f"{result.brier_all_candidates:.3f}"
            if result.brier_all_candidates is not None
            else "-",
        ),
        ("unsafe actions", str(result.unsafe_actions)),
    ):
        table.add_row(name, value)
    console.print(table)
    rel = Table(
        title="Reliability (all candidate forecasts)", title_justify="left", header_style="bold"
    )
    for column in ("confidence", "forecasts", "mean confidence", "observed"):
        rel.add_column(column, justify="right")
    for b in result.reliability:
        rel.add_row(
            f"{b.low:.1f}-{b.high:.1f}",
            str(b.count),
            _pct(b.mean_confidence),
            _pct(b.observed_frequency),
        )
    console.print(rel)


def emit_json_stdout(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2, default=str))


def print_checks(results: list[BackendCheck]) -> None:
    style = {"ok": "green", "disabled": "dim", "failed": "bold red"}
    table = Table(header_style="bold")
    for column in ("backend", "status", "detail"):
        table.add_column(column)
    for r in results:
        timing = f" ({r.seconds * 1000:.0f} ms)" if r.seconds is not None else ""
        table.add_row(r.backend, f"[{style[r.status.value]}]{r.status.value}[/]", r.detail + timing)
    console.print(table)
