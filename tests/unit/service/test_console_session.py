"""Console sessions stand for an API token: they carry who from the settings, end with
the token, expire, and a changed byte anywhere makes them nothing."""

from __future__ import annotations

import time

from pydantic import SecretStr

from firstline.service.console import session
from firstline.service.settings import ServeSettings

ANA, READER = "ana-token-0123456789abcdef", "reader-token-0123456789"


def _settings(**principals: str) -> ServeSettings:
    return ServeSettings(
        api_principals={n: SecretStr(t) for n, t in principals.items()},
        api_tokens=[SecretStr(READER)],
    )


def test_a_session_names_the_principal_its_token_is_bound_to() -> None:
    settings = _settings(ana=ANA)
    found = session.read(settings, session.issue(ANA))
    assert found is not None and found.caller.principal == "ana"
    reader = session.read(settings, session.issue(READER))
    assert reader is not None and reader.caller.principal is None
    assert found.csrf != reader.csrf and session.csrf_ok(found, found.csrf)
    assert not session.csrf_ok(found, reader.csrf) and not session.csrf_ok(found, None)


def test_a_session_ends_with_its_token_and_with_its_lifetime() -> None:
    cookie = session.issue(ANA)
    assert session.read(_settings(bo=ANA + "-rotated"), cookie) is None
    later = time.time() + session.LIFETIME_SECONDS + 1
    assert session.read(_settings(ana=ANA), cookie, now=later) is None
    # the same token moved to another name decides as that name: who is read from settings
    moved = session.read(_settings(bo=ANA), cookie)
    assert moved is not None and moved.caller.principal == "bo"


def test_any_changed_byte_or_a_made_up_cookie_is_no_session() -> None:
    settings = _settings(ana=ANA)
    cookie = session.issue(ANA)
    for n in range(len(cookie)):
        flipped = cookie[:n] + ("A" if cookie[n] != "A" else "B") + cookie[n + 1 :]
        assert session.read(settings, flipped) is None, n
    for junk in ("", ".", "x.y", "a.b.c", "eyJ0IjogMX0.00"):
        assert session.read(settings, junk) is None
