"""Reading a webhook body safely: size cap while streaming, content type, strict JSON."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from firstline.service.problems import Problem

_JSON_TYPES = ("application/json", "text/json")


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def check_content_type(request: Request, *, also: tuple[str, ...] = ()) -> None:
    media = _media_type(request.headers.get("content-type"))
    if media in _JSON_TYPES or media.endswith("+json") or media in also:
        return
    shown = media or "none"
    raise Problem(415, f"Content-Type must be application/json, not {shown}")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` bytes (before reading
    it all when Content-Length already says so)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise Problem(413, f"body of {declared} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, bounded nesting (RecursionError is a 400 too)."""
    if not body.strip():
        raise Problem(400, "empty body: expected a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, f"body is not UTF-8 (byte {exc.start})") from exc
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise Problem(
            400, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except ValueError as exc:
        raise Problem(400, f"malformed JSON: {exc}") from exc
    except RecursionError as exc:
        raise Problem(400, "malformed JSON: nested too deeply") from exc
