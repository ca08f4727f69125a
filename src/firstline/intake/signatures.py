"""Webhook authentication checks shared by the endpoints: HMAC signatures and bearer tokens.

Every check is a pure function returning a bool, so the server can answer one 401 that
reveals nothing. Comparisons are constant-time and run over bytes: hmac.compare_digest
refuses non-ASCII str, and an attacker choosing the header must not turn a failed check
into a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable


def hmac_sha256_hex(secret: str | bytes, body: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of the body; str secrets are used as their UTF-8 bytes."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Equality that takes the same time wherever the inputs first differ."""
    left = a.encode("utf-8") if isinstance(a, str) else a
    right = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def matches_any(candidate: str, expected: Iterable[str]) -> bool:
    """Whether the candidate equals one of the expected values.

    Every expected value is compared, with no early exit, so the time taken does not say
    which one (if any) matched; empty expected values never match anything.
    """
    found = False
    for value in expected:
        if value and constant_time_equals(candidate, value):
            found = True
    return found


def verify_hmac(
    body: bytes, header_value: str | None, secret: str, prefix: str = "sha256="
) -> bool:
    """Check a '<prefix><hex HMAC-SHA256 of the raw body>' header, the generic webhook's scheme.

    The hex part is compared case-insensitively (senders differ), the prefix exactly.
    """
    if not header_value or not secret:
        return False
    value = header_value.strip()
    if not value.startswith(prefix):
        return False
    given = value[len(prefix) :].lower()
    return constant_time_equals(given, hmac_sha256_hex(secret, body))


def verify_bearer(header: str | None, tokens: Iterable[str]) -> bool:
    """Check an 'Authorization: Bearer <token>' header against the configured tokens.

    No configured token means no access: an empty list fails closed rather than open.
    """
    if not header:
        return False
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return False
    return matches_any(token, tokens)


def verify_basic(header: str | None, credentials: Iterable[tuple[str, str]]) -> bool:
    """Check an 'Authorization: Basic <base64 user:password>' header.

    Alertmanager, Grafana, Datadog and SNS (credentials in the subscription URL) can all send
    HTTP basic auth where they cannot send a bearer token.
    """
    if not header:
        return False
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    found = False
    for user, password in credentials:
        if not user or not password:
            continue
        expected = f"{user}:{password}".encode()
        if hmac.compare_digest(decoded, expected):
            found = True
    return found
