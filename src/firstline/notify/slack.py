"""Slack: one Block Kit message per incident.

With a bot token the first event posts the message (chat.postMessage) and later events
update it in place (chat.update) and reply in its thread (thread_ts), so a channel keeps
one line per incident. With an incoming webhook, which cannot update, every event posts.
"""

from __future__ import annotations

from typing import Any

import httpx

from firstline.notify.base import (
    DeliveryContext,
    Notification,
    PermanentDeliveryError,
    SettingsNotifier,
    TemporaryDeliveryError,
)
from firstline.notify.headline import lead
from firstline.notify.http import post_json
from firstline.notify.settings import SlackSettings
from firstline.notify.slack_blocks import clip, incident_blocks, update_text

_KINDS = {"approval_request", "acting", "escalation", "resolved", "recommendation", "dismissed"}
# Slack answers HTTP 200 with ok=false; these errors are worth another try.
_TEMPORARY = {"internal_error", "fatal_error", "service_unavailable", "request_timeout",
              "ratelimited"}  # fmt: skip
FALLBACK_TEXT_LIMIT = 3000


class SlackNotifier(SettingsNotifier[SlackSettings]):
    name = "slack"
    kinds = frozenset(_KINDS)

    @staticmethod
    def misconfiguration(settings: SlackSettings) -> str | None:
        return "Slack needs bot_token and channel, or webhook_url" if not settings.enabled else None

    def message(self, notification: Notification) -> dict[str, Any]:
        buttons = notification.kind == "approval_request"
        return {
            # what a phone's push notification shows: the lead, not the blocks
            "text": clip(lead(notification, self.public_url).text, FALLBACK_TEXT_LIMIT),
            "blocks": incident_blocks(notification, self.public_url, buttons),
        }

    async def deliver(self, notification: Notification, context: DeliveryContext) -> dict[str, str]:
        if self.settings.bot_token is None or self.settings.channel is None:
            assert self.settings.webhook_url is not None
            await post_json(
                "Slack webhook",
                self.settings.webhook_url.get_secret_value(),
                self.message(notification),
                timeout=self.settings.timeout_seconds,
            )
            return {"role": "webhook"}
        root = next((r for r in context.receipts if r.get("role") == "root"), None)
        if root is None:
            answer = await self._call(
                "chat.postMessage", {"channel": self.settings.channel, **self.message(notification)}
            )
            return {"role": "root", "channel": str(answer["channel"]), "ts": str(answer["ts"])}
        await self._call(
            "chat.update",
            {"channel": root["channel"], "ts": root["ts"], **self.message(notification)},
        )
        reply = await self._call(
            "chat.postMessage",
            {
                "channel": root["channel"],
                "thread_ts": root["ts"],
                "text": update_text(notification),
            },
        )
        return {"role": "reply", "channel": root["channel"], "ts": str(reply.get("ts", ""))}

    async def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self.settings.bot_token is not None
        response: httpx.Response = await post_json(
            "Slack",
            f"{self.settings.api_url.rstrip('/')}/{method}",
            body,
            headers={
                "Authorization": f"Bearer {self.settings.bot_token.get_secret_value()}",
                "Content-Type": "application/json; charset=utf-8",
            },
            timeout=self.settings.timeout_seconds,
        )
        answer: dict[str, Any] = response.json()
        if answer.get("ok"):
            return answer
        error = str(answer.get("error", "unknown_error"))
        message = f"Slack {method} failed: {error}"
        if error in _TEMPORARY:
            raise TemporaryDeliveryError(message)
        raise PermanentDeliveryError(message)
