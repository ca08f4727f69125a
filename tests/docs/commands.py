"""Whether a command a doc shows would be understood: firstline's own commands and options
(asked of the real command tree), make targets, benchmark scripts and repository paths."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from tests.docs.markdown import PROGRAMS, REDIRECTS, ROOT, Command

_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PYTHONS = {"python", "python3", ".venv/bin/python"}
_CREATING_OPTIONS = {"--out", "-o", "--file", "--output"}
_KUBECTL_PATH_OPTIONS = {"-k", "-f", "--kustomize", "--filename"}


@cache
def cli_root() -> Any:
    """The Click command behind `firstline` (Typer vendors Click, so this is duck-typed)."""
    import typer

    from firstline.cli.main import app

    return typer.main.get_command(app)


def subcommands(command: Any) -> dict[str, Any]:
    return dict(getattr(command, "commands", {}))


def command_paths(command: Any | None = None, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """Every command of the tree as it is typed: `investigate`, `audit`, `audit verify`..."""
    for name, sub in subcommands(command or cli_root()).items():
        yield " ".join((*prefix, name))
        yield from command_paths(sub, (*prefix, name))


def _option(command: Any, word: str) -> Any | None:
    for param in command.params:
        if word in (*param.opts, *getattr(param, "secondary_opts", [])) and word.startswith("-"):
            return param
    return None


def _takes_value(param: Any) -> bool:
    return not (getattr(param, "is_flag", False) or getattr(param, "count", False))


def _placeholder(word: str) -> bool:
    """DIR, INCIDENT_ID, <id>, ...: the doc's stand-ins for what the reader types."""
    bare = word.strip("'\"")
    return bare.startswith("<") or bare.startswith("$") or bare == bare.upper() != bare.lower()


def program_and_arguments(words: tuple[str, ...]) -> tuple[str, list[str]]:
    """Leading `NAME=value` assignments are environment, not the program."""
    rest = list(words)
    while rest and _ENV_ASSIGNMENT.match(rest[0]):
        rest.pop(0)
    return (rest[0], rest[1:]) if rest else ("", [])


def resolve(arguments: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """The command `firstline ARGUMENTS` names (`("audit", "show")`), and what the command
    tree does not know of it: commands and options that do not exist."""
    command, path, problems = cli_root(), (), []
    words = iter(arguments)
    for word in words:
        typed = " ".join(("firstline", *path))
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            param = None if name == "--help" else _option(command, name)
            if param is None and name != "--help":
                problems.append(f"`{typed}` has no option `{name}`")
            elif param is not None and _takes_value(param) and "=" not in word:
                next(words, None)
        elif subcommands(command):
            if _placeholder(word):
                break
            if word not in subcommands(command):
                problems.append(f"`{typed}` has no command `{word}`")
                break
            command = subcommands(command)[word]
            path = (*path, word)
    return path, problems


@cache
def make_targets() -> frozenset[str]:
    text = (ROOT / "Makefile").read_text()
    return frozenset(re.findall(r"^([A-Za-z0-9_.-]+):", text, re.M))


def _python_problems(arguments: list[str]) -> list[str]:
    if not arguments or arguments[0] == "-c":
        return []
    if arguments[0] == "-m":
        module = ROOT.joinpath(*arguments[1].split("."))
        found = module.with_suffix(".py").is_file() or (module / "__main__.py").is_file()
        return [] if found else [f"no module `{arguments[1]}` in the repository"]
    script = ROOT / arguments[0]
    if script.suffix != ".py" or not script.is_file():
        return []  # the path check reports a missing script
    source = script.read_text()
    return [
        f"`{arguments[0]}` has no option `{word.split('=', 1)[0]}`"
        for word in arguments[1:]
        if word.startswith("--") and not re.search(rf"""["']{word.split("=", 1)[0]}["']""", source)
    ]


def program_problems(command: Command) -> list[str]:
    program, arguments = program_and_arguments(command.words)
    if program in PROGRAMS:
        return resolve(arguments)[1]
    if program == "make":
        targets = [w for w in arguments if not _ENV_ASSIGNMENT.match(w) and not w.startswith("-")]
        return [f"the Makefile has no target `{t}`" for t in targets if t not in make_targets()]
    if program in _PYTHONS:
        return _python_problems(arguments)
    return []


@cache
def _top_level() -> frozenset[str]:
    return frozenset(p.name for p in ROOT.iterdir() if not p.name.startswith("."))


def repository_path(word: str) -> Path | None:
    """The repository file a word names, if it names one (`scenarios/x`, `docs/cli.md`)."""
    bare = word.split("=", 1)[-1].strip("'\"").rstrip("/")
    parts = bare.split("/")
    if len(parts) < 2 or parts[0] not in _top_level() or any(_placeholder(p) for p in parts):
        return None
    return ROOT / bare


def _path_words(command: Command) -> Iterator[str]:
    program, arguments = program_and_arguments(command.words)
    if program == "kubectl":  # `deploy/NAME` is a kubectl resource, not this repo's deploy/
        yield from (v for o, v in itertools.pairwise(arguments) if o in _KUBECTL_PATH_OPTIONS)
        return
    yield from [program, *arguments]


def created_paths(command: Command) -> Iterator[Path]:
    """What a command creates, so a later command of the block may name it."""
    program, arguments = program_and_arguments(command.words)
    for before, word in itertools.pairwise(["", *arguments]):
        if before in _CREATING_OPTIONS | REDIRECTS or program == "mkdir":
            path = repository_path(word)
            if path is not None:
                yield path


def missing_paths(command: Command, created: set[Path]) -> list[str]:
    missing = []
    for word in _path_words(command):
        path = repository_path(word)
        if path is None or path.exists() or any(c == path or c in path.parents for c in created):
            continue
        missing.append(f"`{path.relative_to(ROOT)}` does not exist")
    return missing
