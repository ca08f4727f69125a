"""Commands about incidents: investigate, approve, resume, incidents, show, sweep."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from firstline.cli.common import JsonOpt, guard, resolve_incident, run, settings
from firstline.cli.completion import incident_id_argument
from firstline.cli.output import emit_json, print_incident_list
from firstline.policy.mode import Mode

if TYPE_CHECKING:
    from firstline.domain.incident import TimelineEntry
    from firstline.graph.state import IncidentState


def print_page(state: IncidentState, timeline: list[TimelineEntry], full: bool = False) -> None:
    """One screen, or everything."""
    if full:
        from firstline.cli.render import print_incident

        print_incident(state, timeline)
    else:
        from firstline.cli.brief import print_brief

        print_brief(state, timeline)


def _resolve_scenario(alert_file: Path, scenario: Path | None) -> Path | None:
    from firstline.scenarios.loader import ALERT_FILE, SCENARIO_FILE

    if scenario is not None:
        return scenario
    parent = alert_file.parent
    if alert_file.name == ALERT_FILE and (parent / SCENARIO_FILE).is_file():
        return parent
    return None


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
        from firstline.cli import render
        from firstline.intake.alertmanager import load_webhook_file
        from firstline.reporting.incident import incident_json
        from firstline.scenarios.loader import primary_of
        from firstline.wiring.runtime import open_runtime

        alerts = load_webhook_file(alert_file)
        bundle_dir = _resolve_scenario(alert_file, scenario)
        async with open_runtime(settings(), scenario=bundle_dir, mode=mode) as rt:
            progress = None if as_json else render.StageProgress()
            outcome = await rt.runner.start(
                primary_of(alerts),
                scenario=bundle_dir,
                on_stage=progress.stage if progress else None,
            )
            if as_json:
                emit_json(incident_json(outcome.state, rt.store, outcome.paused_at))
            else:
                print_page(outcome.state, rt.store.timeline(outcome.state.incident_id))

    run(body)


def approve(
    given_id: Annotated[str, incident_id_argument("Incident waiting for approval.")],
    by: Annotated[str, typer.Option("--by", help="Who decides (recorded in the audit trail).")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
    comment: Annotated[str, typer.Option(help="Why.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Approve (or --reject) a paused run; it resumes here, from its checkpoint."""

    async def body() -> None:
        from firstline.graph.approvals import submit_decision
        from firstline.reporting.incident import incident_json
        from firstline.wiring.runtime import open_runtime

        if not by.strip():
            raise ValueError("--by must name who decides")
        incident_id = resolve_incident(given_id)
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
                print_page(state, rt.store.timeline(incident_id))
        if result.expired:
            raise typer.Exit(3)

    run(body)


def resume(
    given_id: Annotated[str, incident_id_argument("A run that stopped mid-way (a crash).")],
    as_json: JsonOpt = False,
) -> None:
    """Continue a run from its last checkpoint after a crash.

    Actions already recorded are not executed again."""

    async def body() -> None:
        from firstline.reporting.incident import incident_json
        from firstline.wiring.runtime import open_runtime

        incident_id = resolve_incident(given_id)
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
                print_page(outcome.state, rt.store.timeline(incident_id))

    run(body)


def incidents(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List stored incidents."""

    def body() -> None:  # no event loop: listing is quick and synchronous
        from firstline.store.incidents import IncidentStore
        from firstline.store.open import open_database

        rows = IncidentStore(open_database(settings().store)).list_incidents(limit)
        if as_json:
            emit_json([r.model_dump(mode="json") for r in rows])
        else:
            print_incident_list(rows)

    guard(body)


def show(
    given_id: Annotated[str, incident_id_argument("The incident.")],
    full: Annotated[
        bool, typer.Option("--full", help="Everything: all hypotheses, the whole timeline.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print one incident on one screen (--full: with everything and its timeline)."""

    def body() -> None:  # no event loop: listing is quick and synchronous
        from firstline.reporting.incident import incident_json, state_from_store
        from firstline.store.incidents import IncidentStore
        from firstline.store.open import open_database

        store = IncidentStore(open_database(settings().store))
        incident_id = store.resolve_id(given_id)
        state = state_from_store(store, incident_id)
        if as_json:
            emit_json(incident_json(state, store, None))
        else:
            print_page(state, store.timeline(incident_id), full)

    guard(body)


def sweep(as_json: JsonOpt = False) -> None:
    """Escalate every run whose approval request has expired."""

    async def body() -> None:
        from firstline.graph.approvals import ApprovalError, submit_decision
        from firstline.store.incidents import IncidentStore
        from firstline.store.open import open_database
        from firstline.wiring.runtime import open_runtime

        store = IncidentStore(open_database(settings().store))
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
