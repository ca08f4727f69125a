"""Reading a YAML mapping from a file with errors that fit on one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's loader when PyYAML was built with it (the wheels are): the same safe subset,
# several times faster than the pure-Python one (bundles and policies load on every run).
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_mapping(path: Path, error: type[Exception], what: str) -> dict[str, Any]:
    """The file's top-level mapping; `error(message)` naming the file and the spot otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{what} {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{what} {path}: cannot read ({exc})") from exc
    try:
        loaded = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise error(f"{what} {path}: malformed YAML ({_describe(exc)})") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise error(f"{what} {path}: expected a mapping at the top level")
    return loaded


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)
