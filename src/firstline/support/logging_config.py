"""firstline's own logs: structlog configured once per process, stdlib logging (uvicorn,
httpx, ...) rendered by the same renderer, and every record redacted before it is written.

The `log` group of the one Settings object (FIRSTLINE_LOG__...), composed by
wiring/settings.py. Logs go to stderr: stdout is the CLI's output (`--json` included).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator

from firstline.support.redaction import Redactor

LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]

# Libraries that log every request at INFO (httpx: each notification's POST, again):
# their lines only at debug; warnings and errors always.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
_CHATTY = ("httpx", "httpcore", "urllib3", "kubernetes", "asyncio", "aiosqlite")
_HANDLER_NAME = "firstline"


class LogSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: LogFormat = Field(
        default="auto",
        description=(
            "json: one JSON object a line; console: aligned text for people; auto: console"
            " when stderr is a terminal, json otherwise (a container, a file, a pipe)."
        ),
    )
    level: LogLevel | None = Field(
        default=None,
        description=(
            "debug | info | warning | error. Unset: info for `serve` and `worker`, warning"
            " for the other commands, whose own output already tells a person each stage."
        ),
    )
    access_log: bool = Field(
        default=False,
        description=(
            "One line per HTTP request (method, path, status, duration, client). Off by"
            " default: probes and alert storms would drown the incident lines, and"
            " /metrics already counts requests by status."
        ),
    )

    @field_validator("level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


_LEADING = ("timestamp", "level", "event", "incident_id")


def _leading_keys_first(
    logger: object, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """When, how bad, what and which incident first: a line reads from the left."""
    first = {k: event_dict.pop(k) for k in _LEADING if k in event_dict}
    return first | dict(event_dict)


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is when the record is emitted, not when the handler
    was made: a test's or the CLI runner's captured stream, if it swapped one in."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


_configured: tuple[str, str, tuple[str, ...]] | None = None


def logging_configured() -> bool:
    return _configured is not None


def configure_logging(
    settings: LogSettings, *, default_level: LogLevel, secrets: Iterable[str] = ()
) -> None:
    """Configure structlog and the stdlib root logger for this process; calling it again
    with the same settings does nothing, with other settings replaces only what it set."""
    global _configured
    level = settings.level or default_level
    form = settings.format
    if form == "auto":
        form = "console" if sys.stderr.isatty() else "json"
    key = (level, form, tuple(sorted(set(secrets))))
    if key == _configured:
        return
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if form == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # tracebacks become text before redaction: an exception's message may hold a DSN
            structlog.processors.format_exc_info,
            Redactor(key[2]),
            _leading_keys_first,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn configured earlier in this process (its default log_config, or an app that
    # embeds firstline) has handlers of its own that print raw, unredacted lines: they go,
    # and its loggers write through ours
    for name in _UVICORN:
        owned = logging.getLogger(name)
        for old in list(owned.handlers):
            owned.removeHandler(old)
        owned.propagate = True
    chatty = logging.DEBUG if level == "debug" else logging.WARNING
    for name in _CHATTY:
        logging.getLogger(name).setLevel(chatty)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # not cached: a process (a test run) that configures again gets the new settings
        cache_logger_on_first_use=False,
    )
    _configured = key
