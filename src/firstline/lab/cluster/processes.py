"""One container instance as a real local process: started in its own process group, tied to
the controller's life, its output captured to a file, its memory and CPU read from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: its own process group (so a signal reaches
    everything it starts), and SIGKILL from the kernel once the controller dies, even by
    SIGKILL (nothing of the controller would run then to clean up)."""
    os.setpgid(0, 0)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class Usage:
    rss_bytes: int
    cpu_seconds: float


class ProcessTable:
    """Every process of the machine by process group, read once per controller tick: a
    container's usage is that of its whole group (the program and what it started)."""

    def __init__(self) -> None:
        self._groups: dict[int, list[tuple[int, int, float]]] = {}
        self._listeners: dict[str, int] | None = None  # socket inode -> port, read on demand

    def refresh(self) -> None:
        groups: dict[int, list[tuple[int, int, float]]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            # the command name may hold spaces and parentheses: fields start after the last ")"
            fields = stat[stat.rindex(")") + 2 :].split()
            pgrp, utime, stime = int(fields[2]), int(fields[11]), int(fields[12])
            rss_pages = int(fields[21])  # the VmRSS of /proc/PID/status, in pages
            cpu = (utime + stime) / _CLOCK_TICKS
            groups.setdefault(pgrp, []).append((int(entry.name), rss_pages * _PAGE, cpu))
        self._groups = groups
        self._listeners = None

    def usage(self, group: int) -> Usage:
        members = self._groups.get(group, [])
        return Usage(sum(rss for _, rss, _ in members), sum(cpu for _, _, cpu in members))

    def pids(self, group: int) -> list[int]:
        return [pid for pid, _, _ in self._groups.get(group, [])]

    def _listening_sockets(self) -> dict[str, int]:
        """The machine's listening TCP sockets, read at most once a tick: the tables list
        every socket of the machine, a read is not cheap."""
        if self._listeners is None:
            self._listeners = {}
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                try:
                    lines = Path(table).read_text().splitlines()[1:]
                except OSError:
                    continue
                for line in lines:
                    parts = line.split()
                    if parts[3] == "0A":  # LISTEN
                        self._listeners[parts[9]] = int(parts[1].rsplit(":", 1)[1], 16)
        return self._listeners

    def listens(self, group: int, port: int) -> bool:
        """Whether a process of the group holds a listening socket on the port."""
        inodes = {inode for inode, bound in self._listening_sockets().items() if bound == port}
        for pid in self.pids(group):
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                with contextlib.suppress(OSError):
                    target = str(fd.readlink())
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        return True
        return False


class ContainerProcess:
    """A started container instance; `pid` is also its process group id."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        with log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # the controller forks from one thread only
                close_fds=True,
            )
        self.pid = self._popen.pid

    def exit_code(self) -> int | None:
        """None while it runs; a signal's death reads as 128 + the signal, as a kubelet reports."""
        code = self._popen.poll()
        if code is None:
            return None
        return 128 - code if code < 0 else code

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    async def stop(self, grace_seconds: float) -> int:
        """SIGTERM to the group, SIGKILL after the grace period; the exit code. Waits by
        polling: the API server shares this event loop and must keep answering."""
        self.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while self.exit_code() is None and time.monotonic() < deadline:  # noqa: ASYNC110 - a child's exit sets no event
            await asyncio.sleep(0.05)
        self.signal_group(signal.SIGKILL)  # also whatever the program started and left behind
        self._popen.wait()
        code = self.exit_code()
        return 137 if code is None else code

    def kill_now(self) -> None:
        """For the controller's exit: no grace, nothing left behind."""
        self.signal_group(signal.SIGKILL)
        self._popen.wait()
