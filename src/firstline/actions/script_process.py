"""Run one program as its own process group: no shell, a timeout, bounded output capture."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int | None  # None when it was killed for overrunning the timeout
    timed_out: bool
    stdout: str
    stderr: str
    seconds: float


class _Capture:
    """Keeps the head and the tail of a stream; the middle of a long output is dropped, and
    the stream is still drained so the child never blocks on a full pipe."""

    def __init__(self, limit: int) -> None:
        self.half = limit // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def feed(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > self.half:
            self.dropped += len(self.tail) - self.half
            del self.tail[: len(self.tail) - self.half]

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes cut ...]\n" if self.dropped else ""
        return (bytes(self.head).decode(errors="replace") + middle) + bytes(self.tail).decode(
            errors="replace"
        )


async def _drain(stream: asyncio.StreamReader | None, capture: _Capture) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        capture.feed(chunk)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def run_program(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    time_limit: float,
    kill_grace: float,
    max_output: int,
) -> ProcessResult:
    """argv[0] is an absolute path, executed directly (never through a shell)."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, so a timeout kills its children too
    )
    out, err = _Capture(max_output), _Capture(max_output)
    readers = asyncio.gather(_drain(process.stdout, out), _drain(process.stderr, err))
    timed_out = False
    try:
        try:
            await asyncio.wait_for(process.wait(), time_limit)
        except TimeoutError:
            timed_out = True
            _signal_group(process.pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), kill_grace)
    finally:
        # children left behind (or holding the pipes open) go with the group; also when the
        # caller is cancelled, so nothing outlives the action
        _signal_group(process.pid, signal.SIGKILL)
    await process.wait()
    try:
        await asyncio.wait_for(readers, max(kill_grace, 1.0))
    except TimeoutError:
        readers.cancel()
    return ProcessResult(
        exit_code=None if timed_out else process.returncode,
        timed_out=timed_out,
        stdout=out.text(),
        stderr=err.text(),
        seconds=time.monotonic() - started,
    )
