"""Who may send: bearer tokens, basic auth, HMAC signatures (the vendor's scheme where one
exists) and, for CloudWatch, SNS's own message signatures.

Every check is constant-time (firstline.intake.signatures) and every failure is the same
bare 401, so a caller learns nothing about which part was wrong. Header-based checks run on
the raw body before it is parsed: an unauthenticated caller never sees a parse error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
import structlog

from firstline.intake import cloudwatch, grafana, pagerduty
from firstline.intake.signatures import verify_basic, verify_bearer, verify_hmac
from firstline.service.settings import ServeSettings, WebhookAuth

log = structlog.get_logger(__name__)

_DEFAULT_SIGNATURE_HEADER = {
    "grafana": "X-Grafana-Alerting-Signature",
    "pagerduty": "X-PagerDuty-Signature",
}
GENERIC_SIGNATURE_HEADER = "X-Firstline-Signature"


@dataclass(frozen=True)
class ApiCaller:
    principal: str | None
    """The principal the token is bound to; None for an unnamed, read-only token."""


class SnsCertificates(Protocol):
    async def pem(self, url: str) -> bytes | None: ...


class HttpSnsCertificates:
    """Fetches SNS signing certificates, only from trusted SNS URLs, and caches them. A
    failed fetch is remembered for `failure_ttl_seconds` too, so a stream of forged
    requests naming an unreachable certificate makes one outbound request, not one each."""

    def __init__(
        self,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        failure_ttl_seconds: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.transport = transport
        self.failure_ttl_seconds = failure_ttl_seconds
        self.monotonic = monotonic
        self._cache: dict[str, bytes] = {}
        self._failed: dict[str, float] = {}

    async def pem(self, url: str) -> bytes | None:
        if not cloudwatch.signing_cert_url_is_trusted(url):
            return None
        failed_at = self._failed.get(url)
        if failed_at is not None and self.monotonic() - failed_at < self.failure_ttl_seconds:
            return None
        if url not in self._cache:
            try:
                async with httpx.AsyncClient(
                    timeout=self.timeout_seconds, transport=self.transport
                ) as client:
                    answer = await client.get(url)
                    answer.raise_for_status()
            except httpx.HTTPError as exc:
                log.warning("sns certificate fetch failed", url=url, error=str(exc))
                self._failed[url] = self.monotonic()
                return None
            self._failed.pop(url, None)
            self._cache[url] = answer.content
        return self._cache[url]


def _secrets(auth: WebhookAuth) -> list[str]:
    return [s.get_secret_value() for s in auth.hmac_secrets]


class Authenticator:
    def __init__(
        self,
        settings: ServeSettings,
        certificates: SnsCertificates,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.certificates = certificates
        self.clock = clock

    async def webhook(self, vendor: str, headers: Mapping[str, str], body: bytes) -> bool:
        auth = self.settings.auth_for(vendor)
        headers = {k.lower(): v for k, v in headers.items()}  # HTTP header names are case-blind
        if not auth.configured():
            return self.settings.allow_unauthenticated
        if self._by_headers(vendor, auth, headers, body):
            return True
        if vendor == "cloudwatch" and auth.sns_topic_arns:
            return await self._sns(auth, body)
        return False

    def api(self, headers: Mapping[str, str]) -> ApiCaller | None:
        """Who is calling /api: a named principal, an unnamed (read-only) token, or None."""
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        found: ApiCaller | None = None
        for name, token in self.settings.api_principals.items():  # every one: constant time
            if verify_bearer(authorization, [token.get_secret_value()]) and found is None:
                found = ApiCaller(principal=name)
        tokens = [t.get_secret_value() for t in self.settings.api_tokens]
        if verify_bearer(authorization, tokens) and found is None:
            found = ApiCaller(principal=None)
        return found

    def _by_headers(
        self, vendor: str, auth: WebhookAuth, headers: Mapping[str, str], body: bytes
    ) -> bool:
        authorization = headers.get("authorization")
        tokens = [t.get_secret_value() for t in auth.bearer_tokens]
        if tokens and verify_bearer(authorization, tokens):
            return True
        basic = [(c.username, c.password.get_secret_value()) for c in auth.basic]
        if basic and verify_basic(authorization, basic):
            return True
        secrets = _secrets(auth)
        if not secrets:
            return False
        header = auth.signature_header or _DEFAULT_SIGNATURE_HEADER.get(
            vendor, GENERIC_SIGNATURE_HEADER
        )
        signature = headers.get(header.lower())
        if vendor == "pagerduty":
            return pagerduty.verify_pagerduty_signature(body, signature, secrets)
        if vendor == "grafana":
            return self._grafana(auth, headers, body, signature, secrets)
        return any(verify_hmac(body, signature, s) for s in secrets)

    def _grafana(
        self,
        auth: WebhookAuth,
        headers: Mapping[str, str],
        body: bytes,
        signature: str | None,
        secrets: list[str],
    ) -> bool:
        timestamp = headers.get(auth.timestamp_header.lower()) if auth.timestamp_header else None
        if auth.timestamp_header:
            if timestamp is None or not timestamp.strip().isdigit():
                return False
            age = self.clock().timestamp() - int(timestamp.strip())
            if abs(age) > self.settings.grafana_timestamp_tolerance_seconds:
                return False
        return grafana.verify_grafana_signature(body, signature, secrets, timestamp)

    async def _sns(self, auth: WebhookAuth, body: bytes) -> bool:
        try:
            envelope: Any = json.loads(body)
        except (ValueError, RecursionError):
            return False
        if not isinstance(envelope, dict) or envelope.get("TopicArn") not in auth.sns_topic_arns:
            return False
        if not self._fresh(envelope.get("Timestamp")):
            return False
        url = envelope.get("SigningCertURL") or envelope.get("SigningCertUrl")
        if not isinstance(url, str):
            return False
        pem = await self.certificates.pem(url)
        return pem is not None and cloudwatch.verify_sns_signature(envelope, pem)

    def _fresh(self, stamp: object) -> bool:
        if not isinstance(stamp, str):
            return False
        try:
            sent = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return False
        if sent.tzinfo is None:
            return False
        tolerance = timedelta(seconds=self.settings.sns_timestamp_tolerance_seconds)
        return abs(self.clock() - sent) <= tolerance
