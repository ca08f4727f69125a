"""One HTTP request to a vendor, with the answer turned into the delivery errors.

Retries are not done here: the delivery worker owns them, so they survive restarts and
show in the timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from firstline.notify.base import PermanentDeliveryError, TemporaryDeliveryError
from firstline.notify.trace import note_status

_MAX_ERROR_TEXT = 300
# 408 and 425 mean "try again"; 429 is rate limiting. Other 4xx will not get better.
_RETRYABLE_4XX = {408, 425, 429}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ERROR_TEXT else text[:_MAX_ERROR_TEXT] + "…"


def raise_for_status(vendor: str, response: httpx.Response) -> None:
    status = response.status_code
    note_status(status)
    if status < 300:
        return
    message = f"{vendor} answered HTTP {status}: {_short(response.text)}"
    if status >= 500 or status in _RETRYABLE_4XX:
        raise TemporaryDeliveryError(
            message, retry_after=retry_after_seconds(response.headers.get("Retry-After"))
        )
    raise PermanentDeliveryError(message)


async def post_json(
    vendor: str,
    url: str,
    body: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    timeout: float,  # noqa: ASYNC109 - httpx's own timeout, not a cancel scope
    content: bytes | None = None,
) -> httpx.Response:
    """POST and check the status. `content` sends pre-encoded bytes (signed bodies)."""
    sent_headers = {"User-Agent": "firstline", **(headers or {})}
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(timeout)) as client:
            if content is not None:
                sent_headers.setdefault("Content-Type", "application/json")
                response = await client.post(url, content=content, headers=sent_headers)
            else:
                response = await client.post(url, json=body, headers=sent_headers)
    except httpx.TimeoutException as exc:
        raise TemporaryDeliveryError(f"{vendor} did not answer in {timeout:.0f}s") from exc
    except httpx.TransportError as exc:
        raise TemporaryDeliveryError(f"{vendor} unreachable: {type(exc).__name__}: {exc}") from exc
    raise_for_status(vendor, response)
    return response
