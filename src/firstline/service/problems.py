"""Client errors as one-line JSON answers: {"error": "..."} with the right 4xx status."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorBody(BaseModel):
    error: str


class Problem(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


def _validation_message(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid request')}"


def install_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return error_response(exc.status, exc.message, exc.headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, _validation_message(exc))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    app.add_exception_handler(Problem, on_problem)
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
