"""The console's browser sessions: a person signs in once with their API token, and gets a
cookie that stands for that token.

The cookie holds no secret: it names the token by a fingerprint and is signed with a key
derived from that same token. So a session is exactly as good as the token behind it: when
the token leaves `serve.api_principals` / `serve.api_tokens`, its sessions stop working;
every replica with the same settings accepts it; and no new secret is to be kept. Who a
session decides as is read from the settings at every request, never from the cookie.

The cookie is HttpOnly and SameSite=Strict; each form that changes something also carries a
CSRF token (an HMAC of the session under the same key), checked before anything is done.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from firstline.service.auth import ApiCaller
from firstline.service.settings import ServeSettings

COOKIE = "firstline_session"
LIFETIME_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    caller: ApiCaller
    csrf: str


def _fingerprint(token: str) -> str:
    return hashlib.sha256(b"firstline-console-id\0" + token.encode()).hexdigest()[:24]


def _key(token: str) -> bytes:
    return hmac.new(token.encode(), b"firstline-console-session", hashlib.sha256).digest()


def _sign(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _tokens(settings: ServeSettings) -> list[tuple[str, ApiCaller]]:
    """Every API token with the caller it makes: the principals', then the read-only ones."""
    named = [(t.get_secret_value(), ApiCaller(name)) for name, t in settings.api_principals.items()]
    return named + [(t.get_secret_value(), ApiCaller(None)) for t in settings.api_tokens]


def issue(token: str, now: float | None = None) -> str:
    """The cookie value for a token that authenticated (service/auth.py Authenticator.api)."""
    expires = int((now if now is not None else time.time()) + LIFETIME_SECONDS)
    payload = json.dumps({"t": _fingerprint(token), "exp": expires}).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(_key(token), payload)}"


def read(settings: ServeSettings, cookie: str | None, now: float | None = None) -> Session | None:
    """The session a cookie stands for, or None: malformed, forged, expired, or its token
    no longer configured."""
    if not cookie or cookie.count(".") != 1:
        return None
    body, signature = cookie.split(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        claims = json.loads(payload)
        fingerprint, expires = str(claims["t"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires < (now if now is not None else time.time()):
        return None
    found: Session | None = None
    for token, caller in _tokens(settings):  # every one, so the time says nothing
        key = _key(token)
        matches = hmac.compare_digest(_fingerprint(token), fingerprint)
        signed = hmac.compare_digest(_sign(key, payload), signature)
        if matches and signed and found is None:
            found = Session(caller=caller, csrf=_sign(key, b"csrf\0" + payload))
    return found


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(session.csrf, submitted)
