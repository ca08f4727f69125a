"""`firstline lab up|run|status|stop|faults`: a small real production on this machine for
firstline to run (docs/lab.md). Light at the top; the lab is imported when a command runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from firstline.cli.base import FirstlineApp
from firstline.cli.common import JsonOpt, guard

DirOpt = Annotated[
    Path,
    typer.Option("--dir", help="The lab's folder: its processes, configs, data and logs."),
]
DEFAULT_DIR = Path(".firstline-lab")


def _progress(as_json: bool) -> Callable[[str], None]:
    from rich.console import Console

    console = Console(stderr=as_json)
    return lambda text: console.print(f"[dim]lab:[/dim] {text}")


def register(app: typer.Typer) -> None:
    lab_app = FirstlineApp(
        help="A live lab: real services, real faults, fixed for real.", no_args_is_help=True
    )

    @lab_app.command("up")
    def up_command(lab_dir: DirOpt = DEFAULT_DIR, as_json: JsonOpt = False) -> None:
        """Start the lab (monitoring, data tier, emulated cluster, shop, firstline serve)."""

        def body() -> None:
            from firstline.lab import stack

            if stack.is_up(lab_dir):
                raise ValueError(f"the lab in {lab_dir} is already up; `firstline lab stop` first")
            stack.up(lab_dir, _progress(as_json))
            _print_status(lab_dir, as_json)

        guard(body)

    @lab_app.command("run")
    def run_command(
        faults: Annotated[
            list[str] | None,
            typer.Argument(
                help="Fault ids (see `firstline lab faults`), or all.", show_default=False
            ),
        ] = None,
        lab_dir: DirOpt = DEFAULT_DIR,
        approve: Annotated[
            bool,
            typer.Option("--approve", help="Approve every request as the lab's operator."),
        ] = False,
        together: Annotated[
            bool, typer.Option("--together", help="Inject all the faults at once.")
        ] = False,
        capture: Annotated[
            Path | None,
            typer.Option(
                "--capture", help="Capture each incident into a bundle under this folder."
            ),
        ] = None,
        keep: Annotated[
            bool, typer.Option("--keep", help="Leave a lab this run started running.")
        ] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Inject faults for real and narrate what firstline does; a summary at the end."""

        guard(lambda: _run(faults, lab_dir, approve, together, capture, keep, as_json))

    @lab_app.command("status")
    def status_command(lab_dir: DirOpt = DEFAULT_DIR, as_json: JsonOpt = False) -> None:
        """Each lab process, alive or not, and where each part listens."""
        guard(lambda: _print_status(lab_dir, as_json))

    @lab_app.command("stop")
    def stop_command(lab_dir: DirOpt = DEFAULT_DIR, as_json: JsonOpt = False) -> None:
        """Stop every process the lab started (by its recorded id), and nothing else."""

        def body() -> None:
            from firstline.lab import stack

            stopped = stack.down(lab_dir, _progress(as_json))
            if as_json:
                from firstline.cli.output import emit_json

                emit_json({"stopped": stopped})

        guard(body)

    @lab_app.command("faults")
    def faults_command(as_json: JsonOpt = False) -> None:
        """The faults the lab can inject and what firstline should make of each."""
        _print_faults(as_json)

    app.add_typer(lab_app, name="lab")


def _run(
    faults: list[str] | None,
    lab_dir: Path,
    approve: bool,
    together: bool,
    capture: Path | None,
    keep: bool,
    as_json: bool,
) -> None:
    from rich.console import Console

    from firstline.lab import faults as registry
    from firstline.lab import runner, stack
    from firstline.lab.topology import Topology

    chosen = registry.select(faults or ["all"])
    console = Console(stderr=as_json)
    started = not stack.is_up(lab_dir)
    if started:
        stack.up(lab_dir, _progress(as_json))
    try:
        options = runner.RunOptions(
            approve=runner.asker(console, approve), capture_dir=capture, together=together
        )
        stack.warm_up(lab_dir, _progress(as_json))
        results = runner.run_faults(Topology.load(lab_dir), chosen, options, console)
    finally:
        if started and not keep:
            stack.down(lab_dir, _progress(as_json))
    if as_json:
        from firstline.cli.output import emit_json

        emit_json(runner.as_json(results))
    else:
        runner.print_summary(results, console)
    if any(r.problems for r in results):
        raise typer.Exit(1)


def _print_faults(as_json: bool) -> None:
    from firstline.lab.faults import FAULTS

    if as_json:
        from dataclasses import asdict

        from firstline.cli.output import emit_json

        emit_json([{"id": f.id, "title": f.title, "service": f.service,
                    "expect": asdict(f.expect)} for f in FAULTS])  # fmt: skip
        return
    for f in FAULTS:
        fix = f.expect.action or "escalate"
        typer.echo(f"{f.id:<22} {f.expect.pattern:<28} {fix}")
        typer.echo(f"  {f.title}")


def _print_status(lab_dir: Path, as_json: bool) -> None:
    from dataclasses import asdict

    from firstline.lab.supervisor import Supervisor
    from firstline.lab.topology import TOPOLOGY_FILE, Topology

    if not (lab_dir / TOPOLOGY_FILE).exists():
        raise ValueError(f"no lab in {lab_dir}; start one with `firstline lab up`")
    topology = Topology.load(lab_dir)
    processes = Supervisor(topology).status()
    if as_json:
        from firstline.cli.output import emit_json

        emit_json({
            "ports": asdict(topology.ports),
            "processes": [{"name": p.name, "pid": p.pid, "alive": p.alive} for p in processes],
        })  # fmt: skip
        return
    for p in processes:
        typer.echo(f"{p.name:<20} pid {p.pid:<8} {'up' if p.alive else 'DOWN'}")
    typer.echo(f"firstline console: {topology.url('firstline')}/")
    typer.echo(f"prometheus:        {topology.url('prometheus')}/alerts")
