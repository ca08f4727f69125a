"""The HTTP plumbing every backend client shares: auth, TLS, timeouts, and retries with
backoff on 5xx and timeouts only (a refused connection or a 4xx will not get better)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx

from firstline.errors import InvalidValue
from firstline.sources.errors import (
    SourceBadResponse,
    SourceError,
    SourceRejected,
    SourceServerError,
    SourceTimeout,
    SourceUnavailable,
)
from firstline.sources.settings import HttpBackendSettings

_MAX_ERROR_TEXT = 300


def build_client(
    settings: HttpBackendSettings, extra_headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    if not settings.url:
        raise InvalidValue("backend URL is not configured")
    headers = {"User-Agent": "firstline", **settings.headers, **(extra_headers or {})}
    auth: httpx.Auth | None = None
    if settings.bearer_token is not None:
        headers["Authorization"] = f"Bearer {settings.bearer_token.get_secret_value()}"
    elif settings.username is not None:
        password = settings.password.get_secret_value() if settings.password else ""
        auth = httpx.BasicAuth(settings.username, password)
    verify: bool | str = str(settings.ca_file) if settings.ca_file else settings.tls_verify
    cert = (str(settings.client_cert), str(settings.client_key)) if settings.client_cert else None
    return httpx.AsyncClient(
        base_url=settings.url.rstrip("/"),
        headers=headers,
        auth=auth,
        verify=verify,  # a CA bundle path or a bool
        cert=cert,
        timeout=httpx.Timeout(settings.timeout_seconds),
    )


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
    else:
        text = (
            str(body.get("error") or body.get("message") or body)
            if isinstance(body, dict)
            else str(body)
        )
    text = " ".join(text.split())
    return text[:_MAX_ERROR_TEXT] + ("…" if len(text) > _MAX_ERROR_TEXT else "")


async def _once(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = await client.request(method, path, **kwargs)
    except httpx.TimeoutException as exc:
        raise SourceTimeout(f"{client.base_url}{path}: no answer within the timeout") from exc
    except httpx.TransportError as exc:
        raise SourceUnavailable(f"{client.base_url}{path}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 500:
        raise SourceServerError(
            f"HTTP {response.status_code} from {path}: {_server_message(response)}"
        )
    if response.status_code >= 400:
        raise SourceRejected(
            f"HTTP {response.status_code} from {path}: {_server_message(response)}"
        )
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise SourceBadResponse(f"{path} answered non-JSON: {response.text[:80]!r}") from exc


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    retries: int,
    backoff_seconds: float = 0.2,
    **kwargs: Any,
) -> Any:
    """One request, retried on 5xx and timeouts with exponential backoff and jitter."""
    attempt = 0
    while True:
        try:
            return await _once(client, method, path, **kwargs)
        except SourceError as exc:
            if not exc.retryable or attempt >= retries:
                raise
        attempt += 1
        delay = backoff_seconds * (2 ** (attempt - 1))
        await asyncio.sleep(delay * (0.5 + random.random()))
