"""custom_script with real programs in a real directory: what ran is read back from the files
the scripts write, and from the processes left (or not) afterwards."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from firstline.actions.base import Reconciliation
from firstline.actions.catalog import make_action
from firstline.actions.scripts import ScriptExecutor
from firstline.actions.settings import ScriptActionSettings
from firstline.domain.action import ActionType, ParamValue, RemediationAction, Target
from tests.integration.actions.policy_deny import assert_refused_by_rule, run_denied

pytestmark = pytest.mark.integration

TARGET = Target(kind="deployment", name="worker", namespace="shop")

# Records its arguments and environment, then the "change": a marker holding the action key.
DRAIN = """#!/bin/sh
out="$(dirname "$0")/../state"
printf '%s\\n' "$@" > "$out/args"
env > "$out/env"
printf '%s' "$FIRSTLINE_ACTION_KEY" > "$out/drained"
echo "drained queue"
"""
DRAIN_CHECK = """#!/bin/sh
out="$(dirname "$0")/../state"
[ -f "$out/drained" ] || exit 1
[ "$(cat "$out/drained")" = "$FIRSTLINE_ACTION_KEY" ] && exit 0
exit 1
"""


def write(path: Path, body: str, mode: int = 0o755) -> Path:
    path.write_text(body)
    path.chmod(mode)
    return path


@pytest.fixture
def runbooks(tmp_path: Path) -> Path:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (tmp_path / "state").mkdir()
    write(directory / "drain-queue", DRAIN)
    write(directory / "drain-queue.check", DRAIN_CHECK)
    write(directory / "no-check", DRAIN)
    write(directory / "failing", "#!/bin/sh\necho broken >&2\nexit 3\n")
    write(directory / "chatty", "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' 'x'\n")
    write(directory / "not-executable", DRAIN, mode=0o644)
    outside = write(tmp_path / "outside.sh", DRAIN)
    (directory / "escape").symlink_to(outside)
    return directory


def executor(directory: Path, **overrides: Any) -> ScriptExecutor:
    return ScriptExecutor(ScriptActionSettings(enabled=True, directory=directory, **overrides))


def script(name: str, **parameters: ParamValue) -> RemediationAction:
    return make_action(
        ActionType.CUSTOM_SCRIPT,
        TARGET,
        rationale="runbook",
        parameters={"script": name, **parameters},
    )


async def test_runs_with_argv_and_only_allowlisted_environment(
    runbooks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUEUE_REGION", "eu")
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    ex = executor(runbooks, env_allowlist=("PATH", "QUEUE_REGION"))
    action = script("drain-queue", queue="orders; rm -rf /", force=True, limit=5)
    assert (await ex.preflight(action)).ok
    outcome = await ex.execute(action, "key-123")
    assert outcome.ok, outcome.detail
    assert outcome.report["exit_code"] == 0 and outcome.report["stdout"] == "drained queue\n"
    state = runbooks.parent / "state"
    # one argv entry per parameter, shell metacharacters passed as plain text
    assert state.joinpath("args").read_text().splitlines() == [
        "--target=deployment/shop/worker", "--force=true", "--limit=5", "--queue=orders; rm -rf /",
    ]  # fmt: skip
    env = dict(line.split("=", 1) for line in state.joinpath("env").read_text().splitlines())
    assert env["QUEUE_REGION"] == "eu" and env["FIRSTLINE_ACTION_KEY"] == "key-123"
    assert "SECRET_TOKEN" not in env and "HOME" not in env
    assert state.joinpath("drained").read_text() == "key-123"


async def test_dry_run_shows_the_command_and_runs_nothing(runbooks: Path) -> None:
    text = await executor(runbooks).dry_run(script("drain-queue", queue="orders"))
    assert (
        f"would run (no shell): {runbooks}/drain-queue --target=deployment/shop/worker --queue=orders"
        in text
    )
    assert "FIRSTLINE_ACTION_KEY" in text
    assert not (runbooks.parent / "state" / "args").exists()


@pytest.mark.parametrize(
    ("name", "parameters", "reason"),
    [
        ("../outside.sh", {}, "must be a plain file name"),
        ("/bin/sh", {}, "must be a plain file name"),
        ("escape", {}, "outside"),
        ("not-executable", {}, "is not executable"),
        ("missing", {}, "does not exist"),
        ("drain-queue.check", {}, "is a reconcile check"),
        ("drain-queue", {"queue": "a\nb"}, "control characters"),
        ("drain-queue", {"--evil": "x"}, "not a plain word"),
    ],
)
async def test_refusals_run_nothing_and_name_the_reason(
    runbooks: Path, name: str, parameters: dict[str, ParamValue], reason: str
) -> None:
    ex = executor(runbooks)
    checked = await ex.preflight(script(name, **parameters))
    assert not checked.ok and reason in checked.problems[0]
    outcome = await ex.execute(script(name, **parameters), "key-x")
    assert not outcome.ok and reason in outcome.detail
    assert not (runbooks.parent / "state" / "args").exists()


async def test_world_writable_directory_is_refused(runbooks: Path) -> None:
    os.chmod(runbooks, 0o777)  # noqa: PTH101 (a plain syscall; the async rule flags pathlib)
    checked = await executor(runbooks).preflight(script("drain-queue"))
    assert not checked.ok and "writable by anyone" in checked.problems[0]


async def test_non_zero_exit_fails_with_captured_stderr(runbooks: Path) -> None:
    outcome = await executor(runbooks).execute(script("failing"), "k")
    assert not outcome.ok and outcome.detail.startswith("failing exited 3")
    assert outcome.report["stderr"] == "broken\n"


async def test_output_is_truncated(runbooks: Path) -> None:
    outcome = await executor(runbooks, max_output_bytes=1000).execute(script("chatty"), "k")
    stdout = str(outcome.report["stdout"])
    assert outcome.ok and len(stdout) < 1100 and "[... 99000 bytes cut ...]" in stdout


async def test_timeout_kills_the_whole_process_group(runbooks: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    write(runbooks / "hang", f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nsleep 300\n")
    started = time.monotonic()
    outcome = await executor(runbooks, timeout_seconds=0.5, kill_grace_seconds=0.5).execute(
        script("hang"), "k"
    )
    assert not outcome.ok and outcome.report["timed_out"] is True
    assert "timed out after 0.5s" in outcome.detail
    assert time.monotonic() - started < 5
    child = int(pid_file.read_text())
    for _ in range(100):  # polls for up to 5 s: the kernel may take a moment to reap it
        if not _alive(child):
            break
        await asyncio.sleep(0.05)
    assert not _alive(child), "the background child outlived the timeout"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has already exited


async def test_reconcile_after_a_crash(runbooks: Path) -> None:
    action = script("drain-queue", queue="orders")
    fresh = executor(runbooks)
    assert (await fresh.reconcile(action, "key-1")).state is Reconciliation.NOT_APPLIED
    assert (await executor(runbooks).execute(action, "key-1")).ok  # the run that "crashed"
    verdict = await executor(runbooks).reconcile(action, "key-1")
    assert (
        verdict.state is Reconciliation.APPLIED and "drain-queue.check exited 0" in verdict.detail
    )
    unknown = await executor(runbooks).reconcile(script("no-check"), "key-1")
    assert unknown.state is Reconciliation.UNKNOWN and "no usable check script" in unknown.detail


async def test_reconcile_unknown_when_the_check_cannot_tell(runbooks: Path) -> None:
    write(runbooks / "failing.check", "#!/bin/sh\nexit 2\n")
    verdict = await executor(runbooks).reconcile(script("failing"), "k")
    assert verdict.state is Reconciliation.UNKNOWN and "exited 2" in verdict.detail


async def test_a_script_that_cannot_start_is_a_failure_not_a_crash(runbooks: Path) -> None:
    write(runbooks / "bad-interpreter", "#!/nonexistent/shell\nexit 0\n")
    outcome = await executor(runbooks).execute(script("bad-interpreter"), "k")
    assert not outcome.ok and outcome.detail.startswith("could not start bad-interpreter")


async def test_a_policy_denial_runs_nothing_and_names_the_rule(
    runbooks: Path, tmp_path: Path
) -> None:
    result, ctx = await run_denied(tmp_path, executor(runbooks), script("drain-queue"))
    assert_refused_by_rule(result, ctx)
    assert list((tmp_path / "state").iterdir()) == [], "the script never ran"
