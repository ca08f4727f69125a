"""Webhook and API authentication: each scheme passes with the right secret and fails
closed otherwise. SNS certificates come from an in-memory stand-in (no network here);
the real fetcher's URL allowlist is tested on its own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from firstline.intake import cloudwatch
from firstline.service.auth import Authenticator, HttpSnsCertificates
from firstline.service.settings import BasicCredential, ServeSettings, WebhookAuth
from tests.unit.intake.test_sns_signature import TOPIC, _certificate, _notification, _signed

BODY = b'{"version":"4","alerts":[]}'
NOW = datetime(2026, 3, 4, 14, 10, tzinfo=UTC)


class _Certs:
    def __init__(self, pem: bytes) -> None:
        self.pem_bytes = pem
        self.asked: list[str] = []

    async def pem(self, url: str) -> bytes | None:
        self.asked.append(url)
        return self.pem_bytes


def _auth(auth: WebhookAuth, certs: Any = None, **serve: Any) -> Authenticator:
    settings = ServeSettings(auth=auth, **serve)
    return Authenticator(settings, certs or _Certs(b""), clock=lambda: NOW)


def _hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_bearer_token() -> None:
    auth = _auth(WebhookAuth(bearer_tokens=[SecretStr("s3cret")]))
    assert await auth.webhook("alertmanager", {"authorization": "Bearer s3cret"}, BODY)
    assert not await auth.webhook("alertmanager", {"authorization": "Bearer s3cre"}, BODY)
    assert not await auth.webhook("alertmanager", {"authorization": "Basic s3cret"}, BODY)
    assert not await auth.webhook("alertmanager", {}, BODY)


async def test_basic_credentials() -> None:
    auth = _auth(WebhookAuth(basic=[BasicCredential(username="am", password=SecretStr("pw"))]))
    good = "Basic " + base64.b64encode(b"am:pw").decode()
    bad = "Basic " + base64.b64encode(b"am:px").decode()
    assert await auth.webhook("grafana", {"authorization": good}, BODY)
    assert not await auth.webhook("grafana", {"authorization": bad}, BODY)


async def test_generic_hmac_covers_the_exact_body() -> None:
    auth = _auth(WebhookAuth(hmac_secrets=[SecretStr("k")]))
    header = {"x-firstline-signature": "sha256=" + _hex("k", BODY)}
    assert await auth.webhook("generic", header, BODY)
    assert not await auth.webhook("generic", header, BODY + b" ")


async def test_pagerduty_uses_its_own_signature_header() -> None:
    auth = _auth(WebhookAuth(hmac_secrets=[SecretStr("pd")]))
    header = {"x-pagerduty-signature": f"v1=deadbeef,v1={_hex('pd', BODY)}"}
    assert await auth.webhook("pagerduty", header, BODY)
    assert not await auth.webhook(
        "pagerduty", {"x-firstline-signature": "sha256=" + _hex("pd", BODY)}, BODY
    )


async def test_grafana_signed_timestamp_must_be_fresh() -> None:
    auth = _auth(
        WebhookAuth(
            hmac_secrets=[SecretStr("g")], timestamp_header="X-Grafana-Alerting-Signature-Timestamp"
        )
    )
    stamp = str(int(NOW.timestamp()))
    signature = _hex("g", stamp.encode() + b":" + BODY)
    fresh = {
        "x-grafana-alerting-signature": signature,
        "x-grafana-alerting-signature-timestamp": stamp,
    }
    assert await auth.webhook("grafana", fresh, BODY)
    old = str(int((NOW - timedelta(minutes=10)).timestamp()))
    stale = {
        "x-grafana-alerting-signature": _hex("g", old.encode() + b":" + BODY),
        "x-grafana-alerting-signature-timestamp": old,
    }
    assert not await auth.webhook("grafana", stale, BODY), "a replayed signature is refused"


async def test_nothing_configured_fails_closed_unless_allowed() -> None:
    assert not await _auth(WebhookAuth()).webhook("generic", {}, BODY)
    assert await _auth(WebhookAuth(), allow_unauthenticated=True).webhook("generic", {}, BODY)


async def test_per_vendor_settings_replace_the_default() -> None:
    settings = ServeSettings(
        auth=WebhookAuth(bearer_tokens=[SecretStr("default")]),
        webhooks={"datadog": WebhookAuth(bearer_tokens=[SecretStr("dd")])},
    )
    auth = Authenticator(settings, _Certs(b""))
    assert await auth.webhook("datadog", {"authorization": "Bearer dd"}, BODY)
    assert not await auth.webhook("datadog", {"authorization": "Bearer default"}, BODY)
    assert await auth.webhook("opsgenie", {"authorization": "Bearer default"}, BODY)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _sns_body(key: rsa.RSAPrivateKey, **changes: Any) -> bytes:
    envelope = {**_notification(), "Timestamp": "2026-03-04T14:07:00.512Z", **changes}
    return json.dumps(_signed(envelope, key, "2")).encode()


async def test_sns_signature_topic_and_age(key: rsa.RSAPrivateKey) -> None:
    certs = _Certs(_certificate(key))
    auth = _auth(WebhookAuth(sns_topic_arns=[TOPIC]), certs)
    assert await auth.webhook("cloudwatch", {}, _sns_body(key))
    assert certs.asked == ["https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem"]
    other_topic = "arn:aws:sns:eu-west-1:210987654321:someone-else"
    assert not await auth.webhook("cloudwatch", {}, _sns_body(key, TopicArn=other_topic))
    assert not await auth.webhook(
        "cloudwatch", {}, _sns_body(key, Timestamp="2026-03-04T10:00:00Z")
    )
    forged = json.loads(_sns_body(key))
    forged["Message"] = forged["Message"].replace("ALARM", "OK")
    assert not await auth.webhook("cloudwatch", {}, json.dumps(forged).encode())
    assert not await auth.webhook("cloudwatch", {}, b"not json")


async def test_the_real_fetcher_asks_only_sns_hosts_and_caches() -> None:
    """AWS cannot be reached from here: httpx's MockTransport stands in for it and records
    every request the fetcher makes, so "never asked" is observed, not inferred."""
    asked: list[str] = []

    def sns(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, content=b"PEM")

    fetcher = HttpSnsCertificates(timeout_seconds=0.5, transport=httpx.MockTransport(sns))
    for url in (
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "https://127.0.0.1/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.txt",
    ):
        assert await fetcher.pem(url) is None, url
    assert asked == [], "an untrusted certificate URL was fetched"
    trusted = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem"
    assert await fetcher.pem(trusted) == b"PEM"
    assert await fetcher.pem(trusted) == b"PEM"
    assert asked == [trusted], "fetched once, then cached"


def test_the_api_needs_its_own_token() -> None:
    settings = ServeSettings(
        auth=WebhookAuth(bearer_tokens=[SecretStr("hook")]), api_tokens=[SecretStr("api")]
    )
    auth = Authenticator(settings, _Certs(b""))
    assert auth.api({"authorization": "Bearer api"})
    assert not auth.api({"authorization": "Bearer hook"})
    assert not Authenticator(ServeSettings(), _Certs(b"")).api({"authorization": "Bearer "})


@pytest.mark.parametrize(
    "url",
    [
        # S3 bucket hosts anyone can own, which the old pattern accepted
        "https://sns.s3.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.s3-eu-west-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.s3-website-us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        # not the documented shapes
        "https://sns.cn-north-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.eu-west-1.amazonaws.com.cn/SimpleNotificationService-1.pem",
        "https://sns.eu-west-1.amazonaws.com/bucket/SimpleNotificationService-1.pem",
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem?x=1",
    ],
)
def test_only_documented_sns_certificate_urls_are_trusted(url: str) -> None:
    assert not cloudwatch.signing_cert_url_is_trusted(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
        "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-01ab.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-01ab.pem",
    ],
)
def test_documented_sns_certificate_urls_are_trusted(url: str) -> None:
    assert cloudwatch.signing_cert_url_is_trusted(url)


async def test_a_failed_certificate_fetch_is_cached_for_a_while() -> None:
    asked: list[str] = []
    now = [1000.0]

    def down(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(503)

    fetcher = HttpSnsCertificates(
        transport=httpx.MockTransport(down), failure_ttl_seconds=60, monotonic=lambda: now[0]
    )
    url = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem"
    for _ in range(20):  # a stream of forged requests naming the same certificate
        assert await fetcher.pem(url) is None
    assert asked == [url], "one outbound fetch, then the failure is cached"
    now[0] += 61
    assert await fetcher.pem(url) is None
    assert len(asked) == 2, "tried again once the failure expired"
