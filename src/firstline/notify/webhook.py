"""A generic webhook: the notification as JSON, signed with HMAC-SHA256.

Headers: `X-Firstline-Event` (kind), `X-Firstline-Delivery` (stable event id, the same on
every retry, so receivers can drop duplicates), `X-Firstline-Timestamp` (unix seconds) and
`X-Firstline-Signature: sha256=<hex>` over `{timestamp}.{raw body}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from firstline.notify.base import DeliveryContext, Notification, SettingsNotifier
from firstline.notify.content import incident_link
from firstline.notify.http import post_json
from firstline.notify.settings import WebhookSettings

SIGNATURE_HEADER = "X-Firstline-Signature"
TIMESTAMP_HEADER = "X-Firstline-Timestamp"


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_webhook_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
    tolerance: float = 300,
) -> bool:  # fmt: skip
    """For receivers: a matching signature over a timestamp within the tolerance."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    expected = webhook_signature(secret, timestamp, body)
    return age <= tolerance and hmac.compare_digest(expected, signature)


class WebhookNotifier(SettingsNotifier[WebhookSettings]):
    name = "webhook"

    @staticmethod
    def misconfiguration(settings: WebhookSettings) -> str | None:
        return "the webhook needs a url" if not settings.url else None

    def document(self, notification: Notification, context: DeliveryContext) -> dict[str, Any]:
        return {
            "event_id": context.event_id,
            "dedup_key": context.dedup_key,
            "link": incident_link(self.public_url, notification.incident_id),
            **notification.model_dump(mode="json"),
        }

    async def deliver(self, notification: Notification, context: DeliveryContext) -> dict[str, str]:
        assert self.settings.url is not None
        body = json.dumps(self.document(notification, context), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            **self.settings.headers,
            "Content-Type": "application/json",
            "X-Firstline-Event": notification.kind,
            "X-Firstline-Delivery": context.event_id,
            TIMESTAMP_HEADER: timestamp,
        }
        if self.settings.secret is not None:
            headers[SIGNATURE_HEADER] = webhook_signature(
                self.settings.secret.get_secret_value(), timestamp, body
            )
        await post_json(
            "webhook", self.settings.url, {}, headers=headers, content=body,
            timeout=self.settings.timeout_seconds,
        )  # fmt: skip
        return {"event_id": context.event_id}
