"""The incident on one screen (80 columns by 40 lines): what `show`, `investigate`,
`approve`, `resume` and the demo print; `show --full` prints everything (cli/render.py).

What a person paged at night needs first, in this order: the id (to copy), the leading
hypothesis with the facts behind it (image tags shortened, never cut), the metrics it
cites as sparklines, the decision, and the next step as a command to type."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from firstline.cli.output import console
from firstline.cli.render import action_lines, header, id_line, next_lines, timeline_table
from firstline.cli.terminal_text import metric_line, short_images
from firstline.domain.evidence import MetricEvidence
from firstline.domain.incident import TimelineEntry
from firstline.graph.state import IncidentState

SIGNALS = 4
OTHERS = 3
METRICS = 3
RECENT_EVENTS = 3
NEXT_STEPS = 2
CITED = 4


def _labelled() -> Table:
    """Two columns, the label's never wrapping: continuation lines stay indented."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def _cause(state: IncidentState, rows: Table) -> None:
    analysis = state.analysis
    top = analysis.top if analysis else None
    if top is None:
        rows.add_row("Cause", "no known pattern explains the evidence")
        return
    guess = " [yellow](a guess from the alert alone)[/yellow]" if top.basis == "alert" else ""
    rows.add_row(
        "Cause",
        f"{top.confidence:.0%} [bold]{top.pattern}[/bold]{guess}: {short_images(top.cause)}",
    )
    for signal in top.signals[:SIGNALS]:
        rows.add_row("", short_images(signal))
    if refs := top.evidence_refs:
        more = f" and {len(refs) - CITED} more" if len(refs) > CITED else ""
        rows.add_row("", f"[dim]evidence: {', '.join(refs[:CITED])}{more}[/dim]")
    assert analysis is not None
    others = [(h.pattern, h.confidence, "") for h in analysis.hypotheses[1:]]
    others += [(r.pattern, r.confidence, " ruled out") for r in analysis.ruled_out]
    others.sort(key=lambda o: -o[1])
    if others:
        rows.add_row(
            "Also",
            "[dim]" + ", ".join(f"{p} {c:.0%}{word}" for p, c, word in others[:OTHERS]) + "[/dim]",
        )


def _metrics(state: IncidentState) -> list[MetricEvidence]:
    """The metrics the leading hypothesis cites, then any other that moved."""
    if state.evidence is None:
        return []
    metrics = [i for i in state.evidence.items if isinstance(i, MetricEvidence) and i.points]
    top = state.analysis.top if state.analysis else None
    cited = set(top.evidence_refs) if top else set()
    chosen = [m for m in metrics if m.id in cited]
    chosen += [m for m in metrics if m.anomalous and m not in chosen]
    return chosen[:METRICS]


def print_brief(state: IncidentState, timeline: list[TimelineEntry]) -> None:
    console.print(header(state))
    console.print(id_line(state))
    if summary := state.alert.annotations.get("summary", ""):
        console.print(Text(summary, style="italic"))
    rows = _labelled()
    _cause(state, rows)
    for n, metric in enumerate(_metrics(state)):
        finding = next((f for f in metric.findings if f.started_at), None)
        since = f" [dim]moved at {finding.started_at:%H:%M}[/dim]" if finding else ""
        rows.add_row("Metrics" if n == 0 else "", metric_line(metric) + since)
    decided = state.decision.reason if state.decision else None
    for label, text in [*action_lines(state), *next_lines(state, NEXT_STEPS)]:
        if label == "Outcome" and decided and decided in text:
            continue  # an escalation's outcome repeats the decision's reason
        rows.add_row(label, short_images(text))
    console.print(rows)
    if timeline:
        shown = timeline[-RECENT_EVENTS:]
        title = f"Timeline (last {len(shown)} of {len(timeline)})"
        console.print(timeline_table(shown, title, brief=True))
    console.print(
        f"[dim]everything: firstline show {state.incident_id} --full[/dim]", soft_wrap=False
    )
