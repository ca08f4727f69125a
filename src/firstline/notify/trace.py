"""What the vendor answered on one delivery attempt, for the delivery worker's log line.

A notifier returns a receipt or raises; neither carries the HTTP status, and receipts are
stored. The worker opens a trace around each attempt and the HTTP helper (or the SMTP
notifier) notes the status in it. The trace is a mutable holder in a context variable, so
it is seen through `asyncio.wait_for`, which runs the attempt in a task of its own with a
copy of the context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class AttemptTrace:
    status_code: int | None = None
    """The last status the vendor answered with (HTTP, or an SMTP reply code)."""


_CURRENT: ContextVar[AttemptTrace | None] = ContextVar("firstline_attempt_trace", default=None)


@contextmanager
def traced_attempt() -> Iterator[AttemptTrace]:
    trace = AttemptTrace()
    token = _CURRENT.set(trace)
    try:
        yield trace
    finally:
        _CURRENT.reset(token)


def note_status(status_code: int) -> None:
    """Record the vendor's answer in the attempt under way, if one is traced."""
    trace = _CURRENT.get()
    if trace is not None:
        trace.status_code = status_code
