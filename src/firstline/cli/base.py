"""The Typer classes every firstline command and command group is built from.

Two things Typer does not do the way firstline's CLI promises:

- its Rich help prints a flag's type beside it (`--json <bool>`), as if the flag took a
  value (its plain-text help does not); here every flag, `--help` included, shows bare;
- a mistake on the command line (an unknown option, a missing argument) is a Rich box on
  stderr even under `--json`; here it goes through the CLI's one error path
  (common.fail), so a script reading `--json` output gets the JSON error it asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import typer
from typer._click.core import Command  # the base of both Typer classes (Typer vendors click)
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

from firstline.cli.common import G, fail, wants_json

BLANK_TYPE = ""
"""A flag's metavar: Rich help prints the metavar instead of the type when one is set."""


def _show_flags_bare(params: Iterable[Any]) -> None:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = BLANK_TYPE


class _FlagsBare(Command):
    """For commands and groups alike: their flags, `--help` included, show no type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _show_flags_bare(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        _show_flags_bare([option] if option is not None else [])
        return option


class FirstlineCommand(_FlagsBare, TyperCommand):
    pass


class FirstlineGroup(_FlagsBare, TyperGroup):
    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        import sys

        arguments = list(sys.argv[1:] if args is None else args)
        G.json_errors = wants_json(arguments)
        return super().main(arguments, *rest, **kwargs)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except typer.TyperException as exc:
            _command_line_error(exc)

    def invoke(self, ctx: Any) -> Any:
        # a subcommand's own arguments are parsed here, inside its group's invoke
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:
            _command_line_error(exc)


def _command_line_error(exc: typer.TyperException) -> None:
    """Under --json, through the CLI's error path; otherwise Typer's own usage box."""
    if not G.json_errors:
        raise exc
    fail("usage", exc.format_message(), getattr(exc, "exit_code", 2))


class FirstlineApp(typer.Typer):
    """A command group whose commands are FirstlineCommands (see the module's docstring)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cls=FirstlineGroup, **options)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **options: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or FirstlineCommand, **options)
