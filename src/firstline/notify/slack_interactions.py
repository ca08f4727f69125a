"""Approve/reject clicks from Slack: verify the request really came from Slack, then read
which incident and approval round it decides. Pure functions, no web framework: the HTTP
server passes the raw body and headers, and maps `SlackRequestRejected` to 401.

Slack's signing scheme (v0): HMAC-SHA256 keyed with the app's signing secret over
`v0:{X-Slack-Request-Timestamp}:{raw body}`, hex, sent as `X-Slack-Signature: v0=<hex>`.
A timestamp more than five minutes from now is refused, so a captured request cannot be
replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict

from firstline.errors import NotAuthenticated, PermanentError
from firstline.notify.slack_blocks import APPROVE, REJECT

TOLERANCE_SECONDS = 300


class SlackRequestRejected(NotAuthenticated):
    """Not provably from Slack (bad or missing signature, stale timestamp): answer 401."""


class SlackPayloadError(PermanentError, ValueError):
    """Signed by Slack, but not an approve/reject click firstline understands: answer 400."""


class SlackApproval(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    round: int
    approved: bool
    user: str
    user_id: str
    channel: str
    response_url: str | None = None


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def verify_slack_request(
    signing_secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> None:
    """Raise SlackRequestRejected unless the request is signed and fresh."""
    if not signing_secret:
        raise SlackRequestRejected("no Slack signing secret is configured")
    timestamp = _header(headers, "X-Slack-Request-Timestamp")
    signature = _header(headers, "X-Slack-Signature")
    if not timestamp or not signature:
        raise SlackRequestRejected("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    try:
        sent = int(timestamp)
    except ValueError as exc:
        raise SlackRequestRejected("X-Slack-Request-Timestamp is not a number") from exc
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        raise SlackRequestRejected(
            f"request timestamp is {abs(current - sent):.0f}s away from now"
            f" (tolerance {tolerance:.0f}s)"
        )
    expected = slack_signature(signing_secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SlackRequestRejected("the Slack signature does not match")


def parse_approval_click(body: bytes) -> SlackApproval:
    """Read a `block_actions` payload (form field `payload`, JSON) from firstline's buttons."""
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=True)
        payload = json.loads(fields["payload"][0])
    except (UnicodeDecodeError, ValueError, KeyError, IndexError) as exc:
        raise SlackPayloadError("body is not a Slack interaction (form field 'payload')") from exc
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise SlackPayloadError("not a block_actions interaction")
    click = next(
        (
            a
            for a in payload.get("actions") or []
            if isinstance(a, dict) and str(a.get("action_id", "")).startswith((APPROVE, REJECT))
        ),
        None,
    )
    if click is None:
        raise SlackPayloadError("no firstline approve/reject action in the payload")
    verb, _, rest = str(click["action_id"]).partition(":")
    incident_id, _, round_text = rest.rpartition(":")
    if not incident_id or not round_text.isdigit():
        raise SlackPayloadError(f"malformed action id {click['action_id']!r}")
    user = payload.get("user") or {}
    channel = payload.get("channel") or {}
    user_id = str(user.get("id", ""))
    return SlackApproval(
        incident_id=incident_id,
        round=int(round_text),
        approved=verb == APPROVE,
        user=str(user.get("username") or user.get("name") or user_id or "unknown"),
        user_id=user_id,
        channel=str(channel.get("id") or channel.get("name") or ""),
        response_url=payload.get("response_url"),
    )


def read_slack_approval(
    signing_secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> SlackApproval:
    """Verify, then parse: what the HTTP route calls with the raw request."""
    verify_slack_request(signing_secret, headers, body, now=now, tolerance=tolerance)
    return parse_approval_click(body)
