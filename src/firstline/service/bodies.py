"""Reading a webhook body safely: size cap and deadline while streaming, content type and
encoding, strict JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import Request

from firstline.intake.text import may_hold_surrogates, storage_safe
from firstline.service.problems import Problem

_JSON_TYPES = ("application/json", "text/json")


def _media_type(header: str | None) -> tuple[str, str | None]:
    """(media type, charset parameter or None), lower case."""
    media, _, params = (header or "").partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


def check_content_type(request: Request, *, also: tuple[str, ...] = ()) -> None:
    """JSON in UTF-8, not compressed; anything else is 415 (nothing else is decoded)."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise Problem(415, f"Content-Encoding {encoding} is not supported: send the body as is")
    media, charset = _media_type(request.headers.get("content-type"))
    if not (media in _JSON_TYPES or media.endswith("+json") or media in also):
        shown = media or "none"
        raise Problem(415, f"Content-Type must be application/json, not {shown}")
    if charset not in (None, "utf-8", "utf8"):
        raise Problem(415, f"charset must be utf-8, not {charset}")


async def read_body(request: Request, limit: int, timeout_seconds: float) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` bytes (before reading
    it all when Content-Length already says so), and with 408 when it has not arrived in
    full within `timeout_seconds` (a slow sender cannot hold a connection for long)."""
    try:
        async with asyncio.timeout(timeout_seconds):
            return await _read(request, limit)
    except TimeoutError as exc:
        raise Problem(408, f"the body did not arrive within {timeout_seconds:g} s") from exc


async def _read(request: Request, limit: int) -> bytes:
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
    """Strict JSON: UTF-8, no NaN/Infinity, bounded nesting (RecursionError is a 400 too).
    Lone surrogates become U+FFFD here, once for every vendor (intake/text.py)."""
    if not body.strip():
        raise Problem(400, "empty body: expected a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, f"body is not UTF-8 (byte {exc.start})") from exc
    try:
        payload = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise Problem(
            400, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except ValueError as exc:
        raise Problem(400, f"malformed JSON: {exc}") from exc
    except RecursionError as exc:
        raise Problem(400, "malformed JSON: nested too deeply") from exc
    return storage_safe(payload) if may_hold_surrogates(text) else payload
