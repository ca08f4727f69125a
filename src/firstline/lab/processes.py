"""One child process of the lab, at the level of the operating system: start it in its own
session with its output in a log file, poll its readiness against a deadline, know it again
later by its PID *and* its start time, and stop its whole process group.

The test suite's services (tests/services/process.py) start their servers with the same
functions, so there is one way of doing this in the repository."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from firstline.errors import PermanentError
from firstline.lab.topology import HOST

POLL_SECONDS = 0.1
TAIL_LINES = 5


class LabError(PermanentError, RuntimeError):
    """A part of the lab cannot run: a binary is missing, its configuration is refused, it
    exits at start or never becomes ready. Its log (named in the message) says why."""


Readiness = Callable[[], bool]


def http_ok(url: str) -> Readiness:
    """Ready when GET url answers 200. A fresh plain connection each time (a server that
    restarts on the same port is never asked over a stale one), and no httpx client per
    poll: building one (its SSL context) costs ~50 ms of CPU, half a core at 10 polls/s."""
    parts = urlsplit(url)
    target = f"{parts.path or '/'}{'?' + parts.query if parts.query else ''}"

    def check() -> bool:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=1.0)
        try:
            connection.request("GET", target)
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    return check


def tcp_open(port: int, host: str = HOST) -> Readiness:
    """Ready when the port accepts a TCP connection."""

    def check() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            return False

    return check


def require_binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise LabError(f"{name} is not installed: run `make test-services` (apt-get)")
    return found


def log_tail(log_path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log, on one line (for a one-line error)."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return f"(no log at {log_path})"
    tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(tail) if tail else f"(empty log {log_path})"


def spawn(
    argv: list[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    fresh_log: bool = False,
) -> subprocess.Popen[bytes]:
    """The child in its own session (so its process group can be signalled as one), stdout
    and stderr appended to log_path (a restart keeps the earlier run's lines above), or
    written to a fresh one."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb" if fresh_log else "ab") as log:
        return subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )


def await_ready(
    process: subprocess.Popen[bytes],
    name: str,
    log_path: Path,
    ready: Readiness | None,
    timeout: float,
) -> None:
    """Poll `ready` until it holds; a child that exits first, or a deadline passed, is a
    LabError naming the log's tail. Without `ready`, being alive is enough."""
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise LabError(f"{name} exited with {code} at start ({log_path}): {log_tail(log_path)}")
        if ready is None or ready():
            return
        if time.monotonic() >= deadline:
            raise LabError(
                f"{name} not ready after {timeout:.0f}s ({log_path}): {log_tail(log_path)}"
            )
        time.sleep(POLL_SECONDS)


def start_time(pid: int) -> int | None:
    """When the process started, in clock ticks after boot (/proc/PID/stat, field 22), or
    None when no such process runs. Together with the PID it names one process for good:
    a PID the kernel hands out again belongs to a process with a later start time."""
    stat = _stat_fields(pid)
    return int(stat[19]) if stat is not None else None


def is_running(pid: int, started: int) -> bool:
    """The process recorded as (pid, started) still runs (a zombie has ended)."""
    stat = _stat_fields(pid)
    return stat is not None and stat[0] != "Z" and int(stat[19]) == started


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat from field 3 (state) on; the command name before it may hold spaces
    and parentheses, so the split starts after its last ')'."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return raw[raw.rindex(")") + 2 :].split()


def stop_group(
    pid: int,
    started: int,
    *,
    stop_signal: int = signal.SIGTERM,
    timeout: float = 10.0,
    child: subprocess.Popen[bytes] | None = None,
) -> None:
    """Signal the process group led by pid, wait for the leader to end (with a deadline),
    then SIGKILL the group. Nothing is sent once the recorded process is gone, so a PID
    handed to someone else is never signalled. `child` is reaped when it is ours."""
    deadline = time.monotonic() + timeout
    _signal_group(pid, started, stop_signal)
    while is_running(pid, started) and time.monotonic() < deadline:
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=POLL_SECONDS)
        else:
            time.sleep(POLL_SECONDS)
    if is_running(pid, started):
        _signal_group(pid, started, signal.SIGKILL)
        kill_deadline = time.monotonic() + timeout
        while is_running(pid, started) and time.monotonic() < kill_deadline:
            time.sleep(POLL_SECONDS)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=timeout)


def _signal_group(pid: int, started: int, sig: int) -> None:
    if not is_running(pid, started):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
