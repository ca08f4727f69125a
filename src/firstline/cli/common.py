"""What the commands share: the global options, settings loaded once, and running a
command body so that errors are one line and a non-zero exit (--debug shows the traceback).

Every error the CLI reports goes through `fail`: one `error: ...` line on stderr, or, when
`--json` is on the command line, one JSON object on stderr (docs/cli.md, "Errors"), so
stdout holds only what the command printed before it failed.

Imports stay light: each command imports what it needs inside its body, so `firstline
--help` and quick commands do not pay for the graph, the server or numpy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from firstline import errors
from firstline.errors import FirstlineError

if TYPE_CHECKING:
    from firstline.wiring.settings import Settings

T = TypeVar("T")

PROG = "firstline"
"""The name in help and in shell completion, also under `python -m firstline`: the
completion scripts call `firstline` and read the variable named after it."""

USER_ERRORS: tuple[type[Exception], ...] = (FirstlineError, ValueError)
"""What a user can cause (a bad file, an unknown id, a refused approval): one line, exit 2.
firstline's own errors all descend from FirstlineError; ValueError covers what libraries
raise on bad input (a malformed date, a pydantic validation)."""


class _Globals:
    settings: Settings | None = None
    debug: bool = False
    config: Path | None = None
    data_dir: Path | None = None
    json_errors: bool = False


G = _Globals()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def wants_json(args: Sequence[str]) -> bool:
    """Errors are JSON when `--json` is on the command line (before a `--`): also when the
    command line itself is wrong, before any command has parsed its options."""
    return "--json" in (args[: list(args).index("--")] if "--" in args else args)


def fail(kind: str, message: str, exit_code: int = 2) -> NoReturn:
    """Report an error the one way the CLI does, and exit with `exit_code`."""
    if G.json_errors:
        error = {"kind": kind, "message": message, "exit_code": exit_code}
        typer.echo(json.dumps({"error": error}), err=True)
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(exit_code)


def error_kind(exc: BaseException) -> str:
    """The nearest kind of firstline.errors the error is, in snake case ("not_found",
    "conflict", "invalid_value", ...); "invalid_value" for a library's ValueError."""
    for cls in type(exc).__mro__:
        if cls.__module__ == errors.__name__:
            return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    return "invalid_value"


def settings() -> Settings:
    if G.settings is None:
        from firstline.wiring.settings import load_settings

        overrides: dict[str, Any] = {}
        if G.data_dir is not None:
            overrides["store"] = {"data_dir": G.data_dir}
        G.settings = load_settings(G.config, **overrides)
    return G.settings


def resolve_incident(given: str) -> str:
    """The full id of the incident `given` names: its id or any unique start of it (an
    indexed lookup; UnknownIncident or AmbiguousIncidentId otherwise)."""
    from firstline.store.incidents import IncidentStore
    from firstline.store.open import open_database

    return IncidentStore(open_database(settings().store)).resolve_id(given)


def run(
    coro_factory: Callable[[], Coroutine[Any, Any, T]], also: tuple[type[Exception], ...] = ()
) -> T:
    """Run a command body; user-facing errors (and `also`) become one line and exit code 2."""
    import asyncio

    return guard(lambda: asyncio.run(coro_factory()), also)


def guard(body: Callable[[], T], also: tuple[type[Exception], ...] = ()) -> T:
    """Call a synchronous command body with the same error handling as `run`."""
    try:
        return body()
    except typer.Exit:
        raise
    except (*USER_ERRORS, *also) as exc:
        if G.debug:
            raise
        fail(error_kind(exc), one_line(exc), 2)
    except Exception as exc:  # a bug: still one line, the traceback behind --debug
        if G.debug:
            raise
        fail(
            "internal", f"unexpected {type(exc).__name__}: {one_line(exc)} (rerun with --debug)", 1
        )


def one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return lines[0] + (" …" if len(lines) > 1 else "")
