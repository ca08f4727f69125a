"""Shared authentication checks: HMAC, bearer and basic, all constant-time and fail-closed."""

from __future__ import annotations

import base64

from firstline.intake.signatures import (
    constant_time_equals,
    hmac_sha256_hex,
    matches_any,
    verify_basic,
    verify_bearer,
    verify_hmac,
)

BODY = b'{"name":"DiskAlmostFull"}'


def test_hmac_matches_rfc_4231_test_case_1() -> None:
    # RFC 4231, test case 1: key 0x0b * 20, data "Hi There".
    assert hmac_sha256_hex(b"\x0b" * 20, b"Hi There") == (
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    )


def test_verify_hmac_accepts_the_right_signature_only() -> None:
    good = "sha256=" + hmac_sha256_hex("s3cret", BODY)
    assert verify_hmac(BODY, good, "s3cret")
    assert verify_hmac(BODY, good.upper().replace("SHA256=", "sha256="), "s3cret")
    assert verify_hmac(BODY, f"  {good} ", "s3cret")
    assert not verify_hmac(BODY, good, "other")
    assert not verify_hmac(BODY + b" ", good, "s3cret")
    assert not verify_hmac(BODY, good.removeprefix("sha256="), "s3cret")
    assert not verify_hmac(BODY, None, "s3cret")
    assert not verify_hmac(BODY, good, "")
    assert not verify_hmac(BODY, "sha256=é", "s3cret"), "non-ASCII must fail, not raise"
    custom = "v1:" + hmac_sha256_hex("s3cret", BODY)
    assert verify_hmac(BODY, custom, "s3cret", prefix="v1:")


def test_bearer_tokens() -> None:
    assert verify_bearer("Bearer tok-1", ["tok-0", "tok-1"])
    assert verify_bearer("bearer   tok-1 ", ["tok-1"])
    assert not verify_bearer("Bearer tok-2", ["tok-0", "tok-1"])
    assert not verify_bearer("Basic tok-1", ["tok-1"])
    assert not verify_bearer("Bearer", ["tok-1"])
    assert not verify_bearer(None, ["tok-1"])
    assert not verify_bearer("Bearer tok-1", []), "no configured token fails closed"
    assert not verify_bearer("Bearer ", [""])
    assert not verify_bearer("Bearer ünïcode", ["tok-1"])
    assert verify_bearer("Bearer ünïcode", ["ünïcode"])


def test_basic_auth() -> None:
    header = "Basic " + base64.b64encode(b"alertmanager:pa:ss").decode()
    assert verify_basic(header, [("grafana", "x"), ("alertmanager", "pa:ss")])
    assert not verify_basic(header, [("alertmanager", "other")])
    assert not verify_basic("Basic not base64!", [("a", "b")])
    assert not verify_basic("Bearer abc", [("a", "b")])
    assert not verify_basic(None, [("a", "b")])
    assert not verify_basic("Basic " + base64.b64encode(b":").decode(), [("", "")])


def test_comparisons_work_on_any_text() -> None:
    assert constant_time_equals("é", "é")
    assert not constant_time_equals("é", "e")
    assert matches_any("b", ["a", "b", "c"])
    assert not matches_any("", ["", "a"])
