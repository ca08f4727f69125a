"""The `drain-queue` runbook and its check, as the scale tests install them: scripts whose
effect is a line in a file, so a test can count how often (and by whom) an action ran."""

from __future__ import annotations

from pathlib import Path


def install_drain(where: Path, drain: str, check: str) -> tuple[Path, Path]:
    """Write `drain-queue` and `drain-queue.check` (templates with `{effects}`) into
    where/runbooks; (the runbook directory, the effects file)."""
    runbooks, effects = where / "runbooks", where / "effects.log"
    runbooks.mkdir()
    for name, body in (("drain-queue", drain), ("drain-queue.check", check)):
        (runbooks / name).write_text(body.format(effects=effects))
        (runbooks / name).chmod(0o755)
    return runbooks, effects
