"""`firstline completion SHELL`: the script that makes a shell complete firstline's
commands, options and choices (docs/cli.md, "Shell completion").

The script is Typer's (the same its --show-completion prints); it calls `firstline` with
a `_FIRSTLINE_COMPLETE` variable set, and the CLI answers with the candidates.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

import typer

from firstline.cli.common import PROG, G, settings

ShellName = Literal["bash", "zsh", "fish"]
VARIABLE = f"_{PROG.upper()}_COMPLETE"


def answer_completion_requests() -> None:
    """When a shell asks for candidates (the script sets VARIABLE), make Typer able to
    answer: it registers its shells only when its own completion options are enabled."""
    if os.environ.get(VARIABLE):
        from typer._completion_classes import completion_init

        completion_init()


CANDIDATES = 50


def incident_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """The ids that begin with what was typed (newest first when nothing was), from the
    store the command line names (--data-dir, --config). Never an error: a completion
    that fails offers nothing rather than printing into the prompt."""
    root = ctx.find_root().params  # the global options, parsed but not yet applied
    G.config, G.data_dir, G.settings = root.get("config"), root.get("data_dir"), None
    try:
        chosen = settings().store
        if chosen.url is None and not chosen.incidents_db.exists():
            return []  # do not create a store to complete from it
        from firstline.store.incidents import IncidentStore
        from firstline.store.open import open_database

        store = IncidentStore(open_database(chosen))
        if not incomplete:
            return [r.id for r in store.list_incidents(CANDIDATES)]
        return store.ids_with_prefix(incomplete, CANDIDATES)[0]
    except Exception:  # a broken store or settings file: nothing to offer
        return []


def incident_id_argument(help: str) -> Any:
    """The ID argument of every command that takes an incident: the whole id or any start
    of it only one incident has (IncidentStore.resolve_id); the shell completes it."""
    return typer.Argument(
        metavar="ID",
        help=f"{help} Any unique start of its id will do.",
        autocompletion=incident_ids,
    )


def register(app: typer.Typer) -> None:
    @app.command("completion")
    def completion_command(
        shell: Annotated[ShellName, typer.Argument(help="The shell to complete in.")],
    ) -> None:
        """Print a shell's completion script: `eval "$(firstline completion bash)"`."""
        from typer._completion_shared import get_completion_script

        typer.echo(get_completion_script(prog_name=PROG, complete_var=VARIABLE, shell=shell))
