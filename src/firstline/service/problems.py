"""Errors as one-line JSON answers: {"error": "..."} with the status of the error's kind.

The mapping is made once, here, for every route: a firstline error (firstline/errors.py)
answers the status its class names, a TemporaryError adds Retry-After, and routes raise
instead of building error answers. Slack's endpoint refines it for decisions (slack.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from firstline.errors import FirstlineError, NotAuthenticated, PermanentError, TemporaryError

log = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    error: str


class Problem(PermanentError):
    """A client error of the HTTP layer itself (credentials, content type, size, a body
    that is not JSON), with its own status and headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


def answer_for(exc: FirstlineError, retry_after_seconds: int) -> JSONResponse:
    """The answer to a request that raised `exc`."""
    if isinstance(exc, Problem):
        return error_response(exc.status, exc.message, exc.headers)
    if isinstance(exc, NotAuthenticated):  # says nothing more, whatever the reason
        return error_response(exc.status, "unauthorized")
    if isinstance(exc, TemporaryError):
        wait = exc.retry_after if exc.retry_after is not None else retry_after_seconds
        return error_response(
            exc.status,
            f"{exc}; nothing was stored, retry",
            {"Retry-After": str(max(1, math.ceil(wait)))},
        )
    if exc.status >= 500:  # a FirstlineError of no kind: a bug, not the caller's fault
        log.error("unexpected error", error=str(exc), kind=type(exc).__name__)
        return error_response(500, "internal error")
    return error_response(exc.status, str(exc))


def _validation_message(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid request')}"


def install_handlers(app: FastAPI, *, retry_after_seconds: int) -> None:
    """`retry_after_seconds`: the Retry-After of a temporary failure that names none."""

    async def on_firstline(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FirstlineError)
        return answer_for(exc, retry_after_seconds)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, _validation_message(exc))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    app.add_exception_handler(FirstlineError, on_firstline)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


# Shared OpenAPI `responses` entries, so every documented error has the same body.
def documented(*statuses: int) -> dict[int | str, dict[str, object]]:
    texts = {
        400: "Malformed body (not JSON, NaN/Infinity, not UTF-8).",
        401: "Missing or wrong credentials. Says nothing more.",
        403: "The token names no principal, or the policy does not let it approve this (audited).",
        404: "No such incident or webhook.",
        409: "The incident is not waiting for this decision, or someone decided first.",
        408: "The body did not arrive within serve.body_read_timeout_seconds.",
        413: "Body larger than serve.max_body_bytes, or more alerts than serve.max_alerts_per_delivery.",
        415: "Content-Type is not JSON.",
        422: "JSON, but not this sender's schema; the message names the field.",
        429: "The store is busy; retry after Retry-After seconds. Nothing was stored.",
        503: "The store cannot be written now; retry after Retry-After seconds. Nothing was stored.",
    }
    return {s: {"model": ErrorBody, "description": texts[s]} for s in statuses}
