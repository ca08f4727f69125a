"""`firstline eval`: run scenario bundles and report accuracy, calibration and safety."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from firstline.cli.common import JsonOpt, run, settings
from firstline.cli.output import console, emit_json

if TYPE_CHECKING:
    from firstline.evaluation.scenarios import EvalReport, ScenarioResult


def eval_command(
    directory: Annotated[
        Path | None,
        typer.Argument(help="A scenario folder or a folder of them (default: the bundled ones)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every scenario and report accuracy, calibration and unsafe actions."""

    async def body() -> None:
        from firstline.evaluation.scenarios import evaluate
        from firstline.scenarios.bundled import bundled_dir

        progress = None if as_json else EvalProgress()

        def on_result(result: ScenarioResult) -> None:
            if progress:
                progress.add(result)

        result = await evaluate(directory or bundled_dir(), settings(), on_result)
        if as_json:
            emit_json(result)
        else:
            print_eval(result)
        if result.unsafe_actions:
            raise typer.Exit(1)

    run(body)


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
