"""Help at 80 columns: flags show as flags (Typer's Rich help printed `--json <bool>`),
nothing wider than the terminal; `--version` says the version pyproject.toml declares."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from firstline.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def at_80(*args: str) -> str:
    done = runner.invoke(app, list(args), env={"COLUMNS": "80"}, prog_name="firstline")
    assert done.exit_code == 0, (args, done.output)
    return done.output


def test_every_help_shows_flags_as_flags_within_80_columns() -> None:
    top = at_80("--help")
    commands = re.findall(r"^│ (\w[\w-]*) ", top.split("Commands")[1], re.MULTILINE)
    assert {"show", "approve", "completion", "incidents", "audit"} <= set(commands), commands
    groups = [["audit", "show"], ["audit", "verify"], ["store", "compact"]]
    for args in ([], *([c] for c in commands), *groups):
        shown = at_80(*args, "--help")
        assert not [line for line in shown.splitlines() if len(line) > 80], args
        assert "<bool>" not in shown, args
        assert re.search(r"--help +Show this message", shown), args
    assert re.search(r"--json +Print machine-readable JSON", at_80("show", "--help"))
    assert re.search(r"--full +Everything", at_80("show", "--help"))


def test_version_is_the_declared_one() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert at_80("--version") == f"firstline {declared}\n"
