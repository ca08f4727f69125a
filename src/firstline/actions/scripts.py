"""custom_script: run a runbook script by name from the one configured directory.

The script is named by the `script` parameter; every other parameter becomes a
`--key=value` argument, and the target is passed as `--target=kind/namespace/name`. The
program is executed directly (no shell), with only the allowlisted environment variables
plus FIRSTLINE_ACTION_KEY, in its own process group, killed at the timeout. Exit code 0 is
success. Reconcile asks a `<script>.check` companion, if there is one: exit 0 = applied,
1 = not applied, anything else = unknown.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import structlog

from firstline.actions.base import ExecutionOutcome, Preflight, ReconcileResult, Reconciliation
from firstline.actions.script_process import ProcessResult, run_program
from firstline.actions.settings import ScriptActionSettings
from firstline.domain.action import ActionType, ParamValue, RemediationAction, Target

log = structlog.get_logger(__name__)

CHECK_SUFFIX = ".check"
RESERVED = frozenset({"script", "target"})
PARAMETER_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MAX_VALUE = 1024


class ScriptRefused(Exception):
    """The script or its arguments are not acceptable; the message says why."""


def parameter_text(key: str, value: ParamValue) -> str:
    """A parameter as the script sees it; refused with control characters or too long."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if len(text) > _MAX_VALUE:
        raise ScriptRefused(f"parameter {key} is longer than {_MAX_VALUE} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ScriptRefused(f"parameter {key} contains control characters")
    return text


def script_arguments(parameters: dict[str, ParamValue], target: Target) -> list[str]:
    """`--target=...` then `--key=value` for each parameter but `script`, in key order."""
    args = [f"--target={target.kind}/{target.namespace or ''}/{target.name}"]
    for key in sorted(parameters):
        if key in RESERVED:
            continue
        if not PARAMETER_KEY.match(key):
            raise ScriptRefused(f"parameter name {key!r} is not a plain word")
        args.append(f"--{key}={parameter_text(key, parameters[key])}")
    return args


def resolve_script(directory: Path, name: str) -> Path:
    """The script's real path, only if it is an executable regular file inside `directory`."""
    if not name or Path(name).is_absolute() or "/" in name or os.sep in name or ".." in name:
        raise ScriptRefused(f"script {name!r} must be a plain file name in the script directory")
    if not _NAME.match(name):
        raise ScriptRefused(f"script name {name!r} has characters outside [A-Za-z0-9._-]")
    root = directory.resolve(strict=True)
    try:
        path = (root / name).resolve(strict=True)
    except (FileNotFoundError, RuntimeError) as exc:
        raise ScriptRefused(f"script {name!r} does not exist in {root}") from exc
    if path.parent != root:  # a symlink pointing out of the directory
        raise ScriptRefused(f"script {name!r} resolves to {path}, outside {root}")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ScriptRefused(f"script {name!r} is not a regular file")
    if not os.access(path, os.X_OK):
        raise ScriptRefused(f"script {name!r} is not executable")
    for checked in (path, root):
        if checked.stat().st_mode & stat.S_IWOTH:
            raise ScriptRefused(f"{checked} is writable by anyone; refusing to run from it")
    return path


class ScriptExecutor:
    """See docs/remediation/data-and-scripts.md."""

    name = "script"

    def __init__(self, settings: ScriptActionSettings) -> None:
        self.settings = settings

    def supports(self, action_type: ActionType) -> bool:
        return action_type is ActionType.CUSTOM_SCRIPT

    def _directory(self) -> Path:
        if self.settings.directory is None:
            raise ScriptRefused("no script directory is configured (actions.scripts.directory)")
        if not self.settings.directory.is_dir():
            raise ScriptRefused(f"script directory {self.settings.directory} does not exist")
        return self.settings.directory

    def _argv(self, action: RemediationAction) -> list[str]:
        name = action.parameters.get("script")
        if not isinstance(name, str):
            raise ScriptRefused("parameter script (the runbook script's file name) is required")
        if name.endswith(CHECK_SUFFIX):
            raise ScriptRefused(f"{name} is a reconcile check, not an action")
        path = resolve_script(self._directory(), name)
        return [str(path), *script_arguments(action.parameters, action.target)]

    def environment(self, idempotency_key: str) -> dict[str, str]:
        """Read at run time, never at import: only allowlisted names pass."""
        env = {k: os.environ[k] for k in self.settings.env_allowlist if k in os.environ}
        env["FIRSTLINE_ACTION_KEY"] = idempotency_key
        return env

    async def _run(self, argv: list[str], idempotency_key: str) -> ProcessResult:
        return await run_program(
            argv,
            env=self.environment(idempotency_key),
            cwd=self._directory().resolve(),
            time_limit=self.settings.timeout_seconds,
            kill_grace=self.settings.kill_grace_seconds,
            max_output=self.settings.max_output_bytes,
        )

    # -- the port ---------------------------------------------------------------------------

    async def preflight(self, action: RemediationAction) -> Preflight:
        try:
            self._argv(action)
        except (ScriptRefused, OSError) as exc:
            return Preflight(ok=False, problems=[str(exc)])
        return Preflight(ok=True)

    async def dry_run(self, action: RemediationAction) -> str:
        try:
            argv = self._argv(action)
        except (ScriptRefused, OSError) as exc:
            return f"would not {action.describe()}: {exc}"
        names = ", ".join([*self.settings.env_allowlist, "FIRSTLINE_ACTION_KEY"])
        return (
            f"would run (no shell): {' '.join(argv)}\n"
            f"  environment: {names}\n"
            f"  timeout: {self.settings.timeout_seconds:g}s, then the process group is killed"
        )

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        try:
            argv = self._argv(action)
        except (ScriptRefused, OSError) as exc:
            return ExecutionOutcome(ok=False, detail=str(exc))
        name = Path(argv[0]).name
        try:
            result = await self._run(argv, idempotency_key)
        except OSError as exc:  # e.g. a missing interpreter in the #! line
            return ExecutionOutcome(ok=False, detail=f"could not start {name}: {exc}")
        if result.timed_out:
            detail = f"{name} timed out after {self.settings.timeout_seconds:g}s and was killed"
        else:
            detail = f"{name} exited {result.exit_code} after {result.seconds:.1f}s"
        log.info("script.ran", script=name, exit_code=result.exit_code, timed_out=result.timed_out)
        return ExecutionOutcome(
            ok=result.exit_code == 0,
            detail=detail,
            report={
                "argv": argv,
                "exit_code": -1 if result.exit_code is None else result.exit_code,
                "timed_out": result.timed_out,
                "stdout": result.stdout,
                "stderr": result.stderr,
            },
        )

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        try:
            argv = self._argv(action)
            check = resolve_script(self._directory(), Path(argv[0]).name + CHECK_SUFFIX)
        except (ScriptRefused, OSError) as exc:
            return ReconcileResult(
                state=Reconciliation.UNKNOWN, detail=f"no usable check script: {exc}"
            )
        try:
            result = await self._run([str(check), *argv[1:]], idempotency_key)
        except OSError as exc:
            return ReconcileResult(
                state=Reconciliation.UNKNOWN, detail=f"could not start {check.name}: {exc}"
            )
        verdict = {0: Reconciliation.APPLIED, 1: Reconciliation.NOT_APPLIED}.get(
            result.exit_code if result.exit_code is not None else -1, Reconciliation.UNKNOWN
        )
        said = (result.stdout.strip() or result.stderr.strip())[-200:]
        why = "timed out" if result.timed_out else f"exited {result.exit_code}"
        return ReconcileResult(state=verdict, detail=f"{check.name} {why}: {said}".rstrip(": "))
