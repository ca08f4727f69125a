"""The firstline command line: thin typer commands over wiring.

Errors are one line and a non-zero exit; --debug shows the traceback.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel

from firstline.cli import render as report
from firstline.cli.audit import register as register_audit
from firstline.cli.capture import register as register_capture
from firstline.cli.detection import register as register_detection
from firstline.cli.serve import register as register_serve
from firstline.evaluation.scenarios import ScenarioResult, evaluate
from firstline.graph.approvals import ApprovalError, submit_decision
from firstline.intake.alertmanager import load_webhook_file
from firstline.intake.errors import AlertParseError
from firstline.patterns.registry import PatternLoadError
from firstline.policy.schema import Mode, PolicyError
from firstline.reporting.incident import incident_json, state_from_store
from firstline.scenarios.bundled import bundled_dir
from firstline.scenarios.loader import ALERT_FILE, SCENARIO_FILE, ScenarioError, primary_of
from firstline.store.incidents import IncidentStore, UnknownIncident
from firstline.wiring.checks import CheckStatus, check_backends
from firstline.wiring.runtime import build_live_source, open_runtime
from firstline.wiring.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    name="firstline",
    help="A self-hosted incident-response agent: triage, evidence, root cause, safe action.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

T = TypeVar("T")

USER_ERRORS = (
    AlertParseError,
    ScenarioError,
    UnknownIncident,
    ApprovalError,
    PolicyError,
    SettingsError,
    PatternLoadError,
    ValueError,
)


class _Globals:
    settings: Settings | None = None
    debug: bool = False
    config: Path | None = None
    data_dir: Path | None = None


G = _Globals()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def settings() -> Settings:
    if G.settings is None:
        overrides: dict[str, Any] = {}
        if G.data_dir is not None:
            overrides["store"] = {"data_dir": G.data_dir}
        G.settings = load_settings(G.config, **overrides)
    return G.settings


def run(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command body; user-facing errors become one line and exit code 2."""
    try:
        return asyncio.run(coro_factory())
    except typer.Exit:
        raise
    except USER_ERRORS as exc:
        if G.debug:
            raise
        typer.echo(f"error: {_one_line(exc)}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # a bug: still one line, the traceback behind --debug
        if G.debug:
            raise
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (rerun with --debug)",
            err=True,
        )
        raise typer.Exit(1) from None


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return lines[0] + (" …" if len(lines) > 1 else "")


def emit_json(data: Any) -> None:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    typer.echo(json.dumps(data, indent=2, default=str))


@app.callback()
def main_options(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Settings YAML.", envvar="FIRSTLINE_CONFIG"),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where incidents and checkpoints live.")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    G.config, G.data_dir, G.debug, G.settings = config, data_dir, debug, None


def _resolve_scenario(alert_file: Path, scenario: Path | None) -> Path | None:
    if scenario is not None:
        return scenario
    parent = alert_file.parent
    if alert_file.name == ALERT_FILE and (parent / SCENARIO_FILE).is_file():
        return parent
    return None


@app.command()
def investigate(
    alert_file: Annotated[Path, typer.Argument(help="Alertmanager webhook v4 payload (JSON).")],
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", "-s", help="Scenario bundle to replay evidence from."),
    ] = None,
    mode: Annotated[Mode | None, typer.Option(help="Override the policy mode.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run one incident end to end and print the report."""

    async def body() -> None:
        alerts = load_webhook_file(alert_file)
        bundle_dir = _resolve_scenario(alert_file, scenario)
        async with open_runtime(settings(), scenario=bundle_dir, mode=mode) as rt:
            progress = None if as_json else report.StageProgress()
            outcome = await rt.runner.start(
                primary_of(alerts),
                scenario=bundle_dir,
                on_stage=progress.stage if progress else None,
            )
            if as_json:
                emit_json(incident_json(outcome.state, rt.store, outcome.paused_at))
            else:
                report.print_incident(outcome.state, rt.store.timeline(outcome.state.incident_id))

    run(body)


@app.command()
def approve(
    incident_id: Annotated[str, typer.Argument(help="Incident waiting for approval.")],
    by: Annotated[str, typer.Option("--by", help="Who decides (recorded in the audit trail).")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
    comment: Annotated[str, typer.Option(help="Why.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Approve (or --reject) a paused run; it resumes here, from its checkpoint."""

    async def body() -> None:
        if not by.strip():
            raise ValueError("--by must name who decides")
        async with open_runtime(settings(), incident_id=incident_id) as rt:
            result = await submit_decision(
                rt.runner, incident_id, approved=not reject, by=by, comment=comment
            )
            state = result.outcome.state
            if as_json:
                payload = incident_json(state, rt.store, result.outcome.paused_at)
                emit_json({"message": result.message, "expired": result.expired, **payload})
            else:
                typer.echo(result.message)
                report.print_incident(state, rt.store.timeline(incident_id))
        if result.expired:
            raise typer.Exit(3)

    run(body)


@app.command()
def resume(
    incident_id: Annotated[str, typer.Argument(help="A run that stopped mid-way (a crash).")],
    as_json: JsonOpt = False,
) -> None:
    """Continue a run from its last checkpoint after a crash. Actions already recorded are
    not executed again."""

    async def body() -> None:
        async with open_runtime(settings(), incident_id=incident_id) as rt:
            pending = await rt.runner.paused_at(incident_id)
            if not pending:
                raise ValueError(f"incident {incident_id} has nothing left to run")
            if "request_approval" in pending:
                raise ValueError(
                    f"incident {incident_id} is waiting for approval: use `firstline approve`"
                )
            outcome = await rt.runner.continue_interrupted(incident_id)
            if as_json:
                emit_json(incident_json(outcome.state, rt.store, outcome.paused_at))
            else:
                report.print_incident(outcome.state, rt.store.timeline(incident_id))

    run(body)


@app.command()
def incidents(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List stored incidents."""

    async def body() -> None:
        rows = IncidentStore(settings().store.incidents_db).list_incidents(limit)
        if as_json:
            emit_json([r.model_dump(mode="json") for r in rows])
        else:
            report.print_incident_list(rows)

    run(body)


@app.command()
def show(
    incident_id: Annotated[str, typer.Argument()],
    as_json: JsonOpt = False,
) -> None:
    """Print one incident with its timeline."""

    async def body() -> None:
        store = IncidentStore(settings().store.incidents_db)
        state = state_from_store(store, incident_id)
        if as_json:
            emit_json(incident_json(state, store, None))
        else:
            report.print_incident(state, store.timeline(incident_id))

    run(body)


@app.command()
def sweep(as_json: JsonOpt = False) -> None:
    """Escalate every run whose approval request has expired."""

    async def body() -> None:
        store = IncidentStore(settings().store.incidents_db)
        done: list[dict[str, Any]] = []
        for record in store.pending_approvals():
            async with open_runtime(settings(), incident_id=record.incident_id) as rt:
                if record.expires_at >= rt.runner.context.clock():
                    continue
                try:
                    result = await submit_decision(
                        rt.runner, record.incident_id, approved=False, by="firstline"
                    )
                except ApprovalError:
                    continue
                done.append({"incident_id": record.incident_id, "message": result.message})
        if as_json:
            emit_json(done)
        else:
            for item in done:
                typer.echo(item["message"])
            typer.echo(f"{len(done)} expired approval request(s) escalated")

    run(body)


@app.command()
def check(as_json: JsonOpt = False) -> None:
    """Probe each configured evidence backend: enabled, disabled or failed (with the reason)."""

    async def body() -> None:
        cfg = settings()
        results = await check_backends(build_live_source(cfg), cfg.sources.source_timeout_seconds)
        if as_json:
            emit_json([r.model_dump(mode="json") for r in results])
        else:
            report.print_checks(results)
        if any(r.status is CheckStatus.FAILED for r in results):
            raise typer.Exit(1)

    run(body)


@app.command("eval")
def eval_command(
    directory: Annotated[
        Path | None,
        typer.Argument(help="A scenario folder or a folder of them (default: the bundled ones)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every scenario and report accuracy, calibration and unsafe actions."""

    async def body() -> None:
        progress = None if as_json else report.EvalProgress()

        def on_result(result: ScenarioResult) -> None:
            if progress:
                progress.add(result)

        result = await evaluate(directory or bundled_dir(), settings(), on_result)
        if as_json:
            emit_json(result)
        else:
            report.print_eval(result)
        if result.unsafe_actions:
            raise typer.Exit(1)

    run(body)


@app.command()
def demo(
    as_json: JsonOpt = False,
) -> None:
    """Three showcase incidents: fixed automatically, approved from another process, escalated."""
    from firstline.cli.demo import run_demo

    run(lambda: run_demo(settings(), as_json=as_json))


register_detection(app)
register_audit(app, settings)
register_serve(app, settings)
register_capture(app, settings)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
