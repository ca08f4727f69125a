"""Slack request verification and click parsing (pure functions)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from firstline.notify.slack_interactions import (
    SlackPayloadError,
    SlackRequestRejected,
    parse_approval_click,
    read_slack_approval,
    slack_signature,
    verify_slack_request,
)

# Slack's published example ("Verifying requests from Slack"): secret, timestamp, body and
# the signature Slack documents for them.
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
DOC_HEADERS = {"X-Slack-Request-Timestamp": DOC_TIMESTAMP, "X-Slack-Signature": DOC_SIGNATURE}


def test_slacks_published_example_signature() -> None:
    assert slack_signature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
    verify_slack_request(DOC_SECRET, DOC_HEADERS, DOC_BODY, now=float(DOC_TIMESTAMP) + 10)


def test_header_names_are_case_insensitive() -> None:
    lower = {k.lower(): v for k, v in DOC_HEADERS.items()}
    verify_slack_request(DOC_SECRET, lower, DOC_BODY, now=float(DOC_TIMESTAMP))


@pytest.mark.parametrize(
    ("secret", "headers", "body", "now", "why"),
    [
        ("other-secret", DOC_HEADERS, DOC_BODY, 1531420618, "does not match"),
        (DOC_SECRET, DOC_HEADERS, DOC_BODY + b"&x=1", 1531420618, "does not match"),
        (DOC_SECRET, {**DOC_HEADERS, "X-Slack-Signature": "v0=" + "0" * 64}, DOC_BODY,
         1531420618, "does not match"),
        (DOC_SECRET, DOC_HEADERS, DOC_BODY, 1531420618 + 301, "tolerance"),
        (DOC_SECRET, DOC_HEADERS, DOC_BODY, 1531420618 - 301, "tolerance"),
        (DOC_SECRET, {"X-Slack-Signature": DOC_SIGNATURE}, DOC_BODY, 1531420618, "missing"),
        (DOC_SECRET, {**DOC_HEADERS, "X-Slack-Request-Timestamp": "soon"}, DOC_BODY,
         1531420618, "not a number"),
        ("", DOC_HEADERS, DOC_BODY, 1531420618, "no Slack signing secret"),
    ],
)  # fmt: skip
def test_bad_or_stale_requests_are_rejected(
    secret: str, headers: dict[str, str], body: bytes, now: float, why: str
) -> None:
    with pytest.raises(SlackRequestRejected, match=why):
        verify_slack_request(secret, headers, body, now=now)


def test_five_minutes_is_still_fresh() -> None:
    verify_slack_request(DOC_SECRET, DOC_HEADERS, DOC_BODY, now=1531420618 + 300)


def _body(action_id: str, kind: str = "block_actions") -> bytes:
    payload = {
        "type": kind,
        "user": {"id": "U1", "username": "carol"},
        "channel": {"id": "C9", "name": "ops"},
        "response_url": "https://hooks.slack.com/actions/x",
        "actions": [{"action_id": action_id, "type": "button", "value": "{}"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_parses_an_approve_click() -> None:
    click = parse_approval_click(_body("firstline_approve:inc-20261126-030000-abc123:2"))
    assert click.incident_id == "inc-20261126-030000-abc123"
    assert (click.round, click.approved, click.user, click.user_id, click.channel) == (
        2, True, "carol", "U1", "C9",
    )  # fmt: skip


def test_parses_a_reject_click() -> None:
    assert not parse_approval_click(_body("firstline_reject:inc-1:1")).approved


@pytest.mark.parametrize(
    "body",
    [
        b"not a form",
        b"payload=%7Bnot%20json",
        _body("firstline_approve:inc-1:1", kind="view_submission"),
        _body("someone_elses_button"),
        _body("firstline_approve:inc-1:one"),
        _body("firstline_approve:1"),
    ],
)
def test_other_payloads_are_refused(body: bytes) -> None:
    with pytest.raises(SlackPayloadError):
        parse_approval_click(body)


def test_read_verifies_before_parsing() -> None:
    body = _body("firstline_approve:inc-1:1")
    with pytest.raises(SlackRequestRejected):
        read_slack_approval(
            "secret", {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=x"}, body, now=1
        )
    headers = {
        "X-Slack-Request-Timestamp": "100",
        "X-Slack-Signature": slack_signature("secret", "100", body),
    }
    assert read_slack_approval("secret", headers, body, now=100).incident_id == "inc-1"
