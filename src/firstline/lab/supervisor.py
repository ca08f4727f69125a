"""The lab's processes, started by one command and stopped by any later one.

Every process the supervisor starts is recorded in `lab_dir/processes.json` (name, PID,
argv, start time, log, stop signal) in start order, so `firstline lab stop` in another
process finds them. The file is rewritten atomically (a temporary file renamed over it)
under an exclusive lock on `processes.lock`, as two commands may change it at once. A
record is only ever signalled while its PID still has the recorded start time: after a
reboot or a crash the PID may belong to someone else."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from firstline.lab.processes import (
    LabError,
    Readiness,
    await_ready,
    is_running,
    spawn,
    start_time,
    stop_group,
)
from firstline.lab.topology import Topology

PROCESSES_FILE = "processes.json"
LOCK_FILE = "processes.lock"


@dataclass(frozen=True)
class LabProcess:
    name: str
    pid: int
    argv: list[str]
    start_time: int  # clock ticks after boot, from /proc/PID/stat
    log: str
    stop_signal: int = signal.SIGTERM

    @property
    def alive(self) -> bool:
        return is_running(self.pid, self.start_time)


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int
    alive: bool
    log: str


class Supervisor:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._children: dict[str, subprocess.Popen[bytes]] = {}  # the ones this object started

    @property
    def records_path(self) -> Path:
        return self.topology.lab_dir / PROCESSES_FILE

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready: Readiness | None = None,
        timeout: float = 60.0,
        stop_signal: int = signal.SIGTERM,
    ) -> LabProcess:
        """Start `name` and return once `ready` holds. One that exits first or is not ready
        in time is stopped, forgotten and reported as a LabError with its log's tail."""
        process = self.launch(name, argv, env=env, cwd=cwd, stop_signal=stop_signal)
        self.await_ready(name, ready, timeout)
        return process

    def launch(
        self,
        name: str,
        argv: list[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> LabProcess:
        """Start and record `name` without waiting for it (then `await_ready`), so slow
        starters can boot side by side."""
        with self._records() as records:
            running = [r for r in records if r.name == name and r.alive]
            if running:
                raise LabError(f"{name} already runs as pid {running[0].pid}")
            log_path = self.topology.logs_dir / f"{name}.log"
            child = spawn(argv, log_path, env=env, cwd=cwd)
            started = start_time(child.pid)
            if started is None:  # exited before its start time could be read
                child.wait()
                started = 0
            process = LabProcess(name, child.pid, list(argv), started, str(log_path), stop_signal)
            records[:] = [r for r in records if r.name != name] + [process]
        self._children[name] = child
        return process

    def await_ready(self, name: str, ready: Readiness | None, timeout: float = 60.0) -> None:
        """Wait for `name`, launched by this supervisor; see `start`."""
        child = self._children[name]
        try:
            await_ready(child, name, self.topology.logs_dir / f"{name}.log", ready, timeout)
        except BaseException:
            self.stop(name)
            raise

    def stop(self, name: str, timeout: float = 10.0) -> None:
        """Stop the recorded process `name` (its process group) and forget it. A name that
        is not recorded, or a process that has already ended, is nothing to do."""
        with self._records() as records:
            process = next((r for r in records if r.name == name), None)
        if process is None:
            child = self._children.pop(name, None)
            if child is not None:  # ours, stopped by another command: reap it
                child.poll()
            return
        stop_group(
            process.pid,
            process.start_time,
            stop_signal=process.stop_signal,
            timeout=timeout,
            child=self._children.pop(name, None),
        )
        with self._records() as records:
            records[:] = [r for r in records if r != process]

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every recorded process, the last started first (a server's clients before it)."""
        for process in reversed(self.processes()):
            self.stop(process.name, timeout=timeout)

    def processes(self) -> list[LabProcess]:
        with self._records() as records:
            return list(records)

    def status(self) -> list[ProcessStatus]:
        return [ProcessStatus(p.name, p.pid, p.alive, p.log) for p in self.processes()]

    @contextlib.contextmanager
    def _records(self) -> Iterator[list[LabProcess]]:
        """The records under the lock; what the block leaves in the list is written back."""
        lab_dir = self.topology.lab_dir
        lab_dir.mkdir(parents=True, exist_ok=True)
        with (lab_dir / LOCK_FILE).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = _read(self.records_path)
            before = list(records)
            yield records
            if records != before:
                _write_atomically(self.records_path, records)


def _read(path: Path) -> list[LabProcess]:
    try:
        body = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    return [LabProcess(**entry) for entry in body["processes"]]


def _write_atomically(path: Path, records: list[LabProcess]) -> None:
    body = json.dumps({"processes": [asdict(r) for r in records]}, indent=2) + "\n"
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(body)
    temporary.replace(path)
