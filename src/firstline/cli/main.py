"""The firstline command line: the app, its global options, and its commands in the order
`--help` lists them. Each command group is a module of this package whose top level
imports only typer, Rich and small models; what a command needs is imported when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from firstline.cli import audit, capture, completion, detection, lab, serve, store
from firstline.cli.base import FirstlineApp
from firstline.cli.check import check
from firstline.cli.common import PROG, G, run, settings
from firstline.cli.evaluate import eval_command
from firstline.cli.incidents import approve, incidents, investigate, resume, show, sweep
from firstline.cli.report import report

app = FirstlineApp(
    name=PROG,
    help="A self-hosted incident-response agent: triage, evidence, root cause, safe action.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # `firstline completion SHELL` prints the script instead: Typer's own options guess the
    # shell from the parent process and edit rc files (docs/cli.md, "Shell completion")
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from firstline import __version__

        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit()


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
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    G.config, G.data_dir, G.debug, G.settings = config, data_dir, debug, None


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Three showcase incidents: fixed automatically, approved from another process, escalated."""
    from firstline.cli.demo import run_demo

    run(lambda: run_demo(settings(), as_json=as_json))


for command in (investigate, approve, resume, incidents, show, report, sweep, check):
    app.command()(command)
app.command("eval")(eval_command)
app.command()(demo)
detection.register(app)
audit.register(app, settings)
store.register(app, settings)
serve.register(app, settings)
capture.register(app)
lab.register(app)
completion.register(app)


def main() -> None:
    try:
        completion.answer_completion_requests()
        app(prog_name=PROG)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
