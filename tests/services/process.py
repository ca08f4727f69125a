"""Start a real server as a child process, poll until it is ready, stop it by PID.

The mechanics (own session, log file, readiness against a deadline, stopping the process
group) are the lab's (firstline/lab/processes.py); a Service is one such child that the
test owning it stops, with no record on disk."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx

from firstline.lab.processes import (
    LabError,
    Readiness,
    await_ready,
    http_ok,
    log_tail,
    spawn,
    start_time,
    stop_group,
)
from firstline.lab.topology import free_port

__all__ = ["LOOPBACK", "Service", "ServiceError", "free_port", "http_ok", "pid_gone"]

ServiceError = LabError  # the suite's name for it: a service that cannot start

# One client for this process's repeated calls to the test servers. httpx.get() builds a
# client, and with it an SSL context (about 50 ms of CPU), on every call: a poll every
# 0.1 s spent half a core on that alone.
LOOPBACK = httpx.Client()


def pid_gone(pid: int) -> bool:
    """No process (or only a zombie, which has ended) has this PID: read from /proc here,
    not through the lab's own check, so a test of the lab does not grade itself."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


class Service:
    """One child process with its log file. `ready` is polled, never slept on blindly."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_dir: Path,
        ready: Readiness,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.ready = ready
        self.log_path = log_dir / f"{name}.log"
        self.env = env
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self._started = 0

    def start(self, timeout: float = 60.0) -> Service:
        self.process = spawn(self.argv, self.log_path, env=self.env, cwd=self.cwd, fresh_log=True)
        self._started = start_time(self.process.pid) or 0
        try:
            await_ready(self.process, self.name, self.log_path, self.ready, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def tail(self, lines: int = 15) -> str:
        return log_tail(self.log_path, lines)

    def stop(self, stop_signal: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        stop_group(self.process.pid, self._started, stop_signal=stop_signal, child=self.process)
