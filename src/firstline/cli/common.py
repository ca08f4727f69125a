"""What the commands share: the global options, settings loaded once, and running a
command body so that errors are one line and a non-zero exit (--debug shows the traceback).

Imports stay light: each command imports what it needs inside its body, so `firstline
--help` and quick commands do not pay for the graph, the server or numpy."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from firstline.errors import FirstlineError

if TYPE_CHECKING:
    from firstline.wiring.settings import Settings

T = TypeVar("T")

USER_ERRORS: tuple[type[Exception], ...] = (FirstlineError, ValueError)
"""What a user can cause (a bad file, an unknown id, a refused approval): one line, exit 2.
firstline's own errors all descend from FirstlineError; ValueError covers what libraries
raise on bad input (a malformed date, a pydantic validation)."""


class _Globals:
    settings: Settings | None = None
    debug: bool = False
    config: Path | None = None
    data_dir: Path | None = None


G = _Globals()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def settings() -> Settings:
    if G.settings is None:
        from firstline.wiring.settings import load_settings

        overrides: dict[str, Any] = {}
        if G.data_dir is not None:
            overrides["store"] = {"data_dir": G.data_dir}
        G.settings = load_settings(G.config, **overrides)
    return G.settings


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
        typer.echo(f"error: {one_line(exc)}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # a bug: still one line, the traceback behind --debug
        if G.debug:
            raise
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {one_line(exc)} (rerun with --debug)",
            err=True,
        )
        raise typer.Exit(1) from None


def one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return lines[0] + (" …" if len(lines) > 1 else "")
