"""The CLI in an 80-column terminal, as a paged SRE uses it: separate processes, one data
directory, the bundled demo incidents. Nothing expected here is read from firstline's own
output: ids come from --json, image tags and decisions from the scenario bundle."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from firstline.cli.demo import NEEDS_APPROVAL
from tests.conftest import SCENARIOS

pytestmark = pytest.mark.integration

SCREEN = (80, 40)


def terminal(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """firstline in an 80x40 terminal (Rich reads the size from COLUMNS and LINES)."""
    env = {**os.environ, "COLUMNS": str(SCREEN[0]), "LINES": str(SCREEN[1])}
    where = ["--data-dir", str(data_dir)] if data_dir is not None else []
    return subprocess.run(
        [sys.executable, "-m", "firstline", *where, *args],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip


def ok_json(done: subprocess.CompletedProcess[str]) -> object:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_fits(text: str) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > SCREEN[0]]
    assert not too_wide, too_wide


def json_error(done: subprocess.CompletedProcess[str], exit_code: int) -> dict[str, object]:
    """stdout empty, stderr exactly one JSON object, the exit code inside it too."""
    assert done.returncode == exit_code, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    error = json.loads(lines[0])["error"]
    assert error["exit_code"] == exit_code
    return error  # type: ignore[no-any-return]


def _investigate_deploy_regression(data_dir: Path) -> str:
    alert = SCENARIOS / NEEDS_APPROVAL / "alert.json"
    started = ok_json(terminal("investigate", str(alert), "--mode", "auto", "--json",
                               data_dir=data_dir))  # fmt: skip
    assert isinstance(started, dict) and started["status"] == "awaiting_approval"
    return str(started["incident_id"])


@pytest.fixture(scope="module")
def two_waiting(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The demo's deploy regression investigated twice, both waiting for approval (the
    tests below approve only the first)."""
    data_dir = tmp_path_factory.mktemp("terminal") / "data"
    return (
        data_dir,
        _investigate_deploy_regression(data_dir),
        _investigate_deploy_regression(data_dir),
    )


def test_show_puts_the_id_cause_tags_decision_and_next_step_on_one_screen(
    two_waiting: tuple[Path, str, str],
) -> None:
    data_dir, _, incident_id = two_waiting
    bundle = yaml.safe_load((SCENARIOS / NEEDS_APPROVAL / "scenario.yaml").read_text())
    deployment = bundle["cluster"]["deployments"][0]
    before, after = (r["containers"][0]["image"] for r in deployment["revisions"][-2:])
    short = [image.rsplit("/", 1)[-1] for image in (before, after)]  # name:tag

    done = terminal("show", incident_id, data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout)
    screen = "\n".join(done.stdout.splitlines()[: SCREEN[1]])
    assert incident_id in screen
    assert bundle["expected"]["pattern"] in screen
    assert re.search(rf"{re.escape(short[0])}\s+->\s+{re.escape(short[1])}", screen), screen
    assert bundle["expected"]["decision"] in screen
    assert f"firstline approve {incident_id} --by" in screen
    assert re.search(r"error_rate [▁▂▃▄▅▆▇█]{8,} \d+(\.\d+)?%", screen), "a sparkline, in %"

    full = terminal("show", incident_id, "--full", data_dir=data_dir)
    assert full.returncode == 0, full.stderr
    assert_fits(full.stdout)
    assert len(full.stdout.splitlines()) > SCREEN[1], "--full has more than one screen"
    unfolded = re.sub(r"\s*│?\n│?\s*", "", full.stdout)  # lines folded inside the panel
    assert before in unfolded and after in unfolded, "--full keeps the whole image reference"


def test_any_unique_start_of_an_id_names_the_incident(two_waiting: tuple[Path, str, str]) -> None:
    data_dir, first, second = two_waiting
    differs = next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)
    common, unique = first[:differs], first[: differs + 1]

    shown = ok_json(terminal("show", unique, "--json", data_dir=data_dir))
    assert isinstance(shown, dict) and shown["incident_id"] == first

    ambiguous = terminal("approve", common, "--by", "alice", data_dir=data_dir)
    assert ambiguous.returncode == 2
    assert ambiguous.stderr.count("\n") == 1 and "2 incidents" in ambiguous.stderr
    error = json_error(terminal("show", common, "--json", data_dir=data_dir), 2)
    assert error["kind"] == "invalid_input" and "2 incidents" in str(error["message"])

    approved = ok_json(terminal("approve", unique, "--by", "alice", "--json", data_dir=data_dir))
    assert isinstance(approved, dict) and approved["approval"]["by"] == "alice"
    assert ok_json(terminal("show", second, "--json", data_dir=data_dir))["status"] == (  # type: ignore[index]
        "awaiting_approval"
    ), "only the incident the prefix named was approved"
    audit = terminal("audit", "show", unique, "--json", data_dir=data_dir)
    records = ok_json(audit)
    assert isinstance(records, list) and {r["incident_id"] for r in records} == {first}


def test_the_incident_list_never_cuts_an_id(two_waiting: tuple[Path, str, str]) -> None:
    data_dir, *ids = two_waiting
    listed = terminal("incidents", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    assert_fits(listed.stdout)
    words = set(listed.stdout.split())
    assert set(ids) <= words, listed.stdout


def test_errors_under_json_are_one_json_object_on_stderr(tmp_path: Path) -> None:
    missing = json_error(terminal("approve", "inc-x", "--json"), 2)  # no --by
    assert missing["kind"] == "usage" and "--by" in str(missing["message"])
    unknown = json_error(terminal("show", "inc-nope", "--json", data_dir=tmp_path), 2)
    assert unknown["kind"] == "not_found" and "inc-nope" in str(unknown["message"])
    plain = terminal("show", "inc-nope", data_dir=tmp_path)
    assert plain.returncode == 2 and plain.stderr.startswith("error: no incident")


def test_bash_completes_commands_options_and_incident_ids(
    tmp_path: Path, two_waiting: tuple[Path, str, str]
) -> None:
    shim = tmp_path / "bin" / "firstline"  # what `pip install` puts on PATH
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m firstline "$@"\n')
    shim.chmod(0o755)
    script = terminal("completion", "bash")
    assert script.returncode == 0, script.stderr
    function = re.search(r"complete .*-F (\S+) firstline", script.stdout)
    assert function, script.stdout

    def complete(*words: str) -> list[str]:
        line = " ".join(words)
        program = (
            f'eval "$(firstline completion bash)"; COMP_WORDS=({line}); '
            f"COMP_CWORD={len(words) - 1}; {function[1]} firstline; "
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        env = {**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}"}
        done = subprocess.run(["bash", "-c", program], capture_output=True, text=True,
                              timeout=60, env=env, check=True)  # fmt: skip
        return done.stdout.split()

    assert "show" in complete("firstline", "sh")
    assert "--full" in complete("firstline", "show", "--f")
    data_dir, first, second = two_waiting
    where = ("firstline", "--data-dir", str(data_dir))
    assert complete(*where, "show", first[:-2]) == [first]
    assert sorted(complete(*where, "audit", "show", "inc-")) == sorted([first, second])
    assert complete("firstline", "--data-dir", str(tmp_path / "none"), "show", "inc-") == []
    assert not (tmp_path / "none").exists(), "completing does not create a store"
