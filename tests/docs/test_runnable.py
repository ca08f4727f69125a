"""The shell blocks marked `<!-- runnable -->` run as the docs show them: in a fresh
directory beside the repository's scenarios, one bash per block (so a variable set by one
command reaches the next), each command with the exit status the doc gives (`# exits 2`,
else 0), and in a `console` block with the output lines the doc shows under it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, Block, logical_lines, shell_blocks, where

pytestmark = pytest.mark.integration

RUNNABLE = [b for b in shell_blocks() if b.runnable]
_EXPECTED_STATUS = re.compile(r"#\s*exits?\s+(\d+)")


def test_some_blocks_are_marked_runnable() -> None:
    assert len(RUNNABLE) >= 2, "the docs mark too few blocks runnable"


def _shown_output(block: Block) -> dict[int, list[str]]:
    """In a console block, the lines under each `$ ` command, by the command's line."""
    shown: dict[int, list[str]] = {}
    current, continued = 0, False
    for number, text in block.lines:
        if text.startswith("$ ") or continued:
            current = number if text.startswith("$ ") else current
            shown.setdefault(current, [])
            continued = text.rstrip().endswith("\\")
        elif current and text.strip() not in {"", "..."}:
            shown[current].append(text.strip())
    return shown


def _workspace(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A directory like the repository root to the reader: `scenarios/`, `examples/`, and
    `firstline` (also as `.venv/bin/firstline`) running this checkout's code."""
    work = tmp_path / "work"
    (work / ".venv" / "bin").mkdir(parents=True)
    for name in ("scenarios", "examples"):
        (work / name).symlink_to(ROOT / name)
    shim = work / ".venv" / "bin" / "firstline"
    shim.write_text(
        f'#!/bin/sh\nPYTHONPATH="{ROOT / "src"}${{PYTHONPATH:+:$PYTHONPATH}}" '
        f'exec "{sys.executable}" -m firstline "$@"\n'
    )
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTLINE_")}
    env.update(PATH=f"{shim.parent}{os.pathsep}{env['PATH']}", HOME=str(tmp_path), COLUMNS="80")
    return work, env


def _script(commands: list[tuple[int, str]]) -> str:
    # braces, not a subshell: an assignment (`id=$(...)`) stays for the next command
    return "".join(
        f"{{ {text}\n}} >out.{line} 2>err.{line}; echo $? >rc.{line}\n" for line, text in commands
    )


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.where)
def test_the_block_runs_as_shown(block: Block, tmp_path: Path) -> None:
    work, env = _workspace(tmp_path)
    commands = list(logical_lines(block))
    script = tmp_path / "block.sh"
    script.write_text(_script(commands))
    subprocess.run(["bash", str(script)], cwd=work, env=env, timeout=600, check=True)
    shown = _shown_output(block)
    for line, text in commands:
        at = f"{where(block.doc, line)}: `{text}`"
        status = int((work / f"rc.{line}").read_text())
        out, err = ((work / f"{s}.{line}").read_text() for s in ("out", "err"))
        expected = _EXPECTED_STATUS.search(text)
        wanted = int(expected.group(1)) if expected else 0
        assert status == wanted, f"{at} exited {status}, the doc says {wanted}\n{err}"
        for output in shown.get(line, []):
            assert output in out + err, f"{at} did not print `{output}`:\n{out}{err}"
