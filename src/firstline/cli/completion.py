"""`firstline completion SHELL`: the script that makes a shell complete firstline's
commands, options and choices (docs/cli.md, "Shell completion").

The script is Typer's (the same its --show-completion prints); it calls `firstline` with
a `_FIRSTLINE_COMPLETE` variable set, and the CLI answers with the candidates.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

import typer

from firstline.cli.common import PROG

ShellName = Literal["bash", "zsh", "fish"]
VARIABLE = f"_{PROG.upper()}_COMPLETE"


def answer_completion_requests() -> None:
    """When a shell asks for candidates (the script sets VARIABLE), make Typer able to
    answer: it registers its shells only when its own completion options are enabled."""
    if os.environ.get(VARIABLE):
        from typer._completion_classes import completion_init

        completion_init()


def register(app: typer.Typer) -> None:
    @app.command("completion")
    def completion_command(
        shell: Annotated[ShellName, typer.Argument(help="The shell to complete in.")],
    ) -> None:
        """Print a shell's completion script: `eval "$(firstline completion bash)"`."""
        from typer._completion_shared import get_completion_script

        typer.echo(get_completion_script(prog_name=PROG, complete_var=VARIABLE, shell=shell))
