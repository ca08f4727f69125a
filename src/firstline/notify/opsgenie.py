"""Opsgenie Alert API: create once per incident (alias = dedup key), add notes as it
progresses, close when verification passed.

Opsgenie de-duplicates open alerts by alias, so a retried create never opens a second
alert; later events become notes because a de-duplicated create drops its new text.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from firstline.notify.base import DeliveryContext, Notification, SettingsNotifier
from firstline.notify.content import incident_link
from firstline.notify.http import post_json
from firstline.notify.settings import OpsgenieSettings

_OPENING = {"approval_request", "escalation", "recommendation"}
_KINDS = _OPENING | {"acting", "resolved"}
# The API's documented limits; longer values are cut by Opsgenie or rejected.
MESSAGE_LIMIT = 130
DESCRIPTION_LIMIT = 15_000
NOTE_LIMIT = 25_000
DETAILS_LIMIT = 8_000
PRIORITIES = {"P1", "P2", "P3", "P4", "P5"}


class OpsgenieNotifier(SettingsNotifier[OpsgenieSettings]):
    name = "opsgenie"
    kinds = frozenset(_KINDS)

    @staticmethod
    def misconfiguration(settings: OpsgenieSettings) -> str | None:
        return "Opsgenie needs an api_key" if settings.api_key is None else None

    @property
    def _headers(self) -> dict[str, str]:
        assert self.settings.api_key is not None
        return {"Authorization": f"GenieKey {self.settings.api_key.get_secret_value()}"}

    def request(
        self, notification: Notification, context: DeliveryContext
    ) -> tuple[str, dict[str, Any]]:
        """The path (under the API URL) and JSON body for this event."""
        alias = context.dedup_key
        created = any(r.get("action") == "create" for r in context.receipts)
        if notification.kind in _OPENING and not created:
            return "/v2/alerts", self._create_body(notification, alias)
        identifier = quote(alias, safe="")
        note = _note(notification, self.public_url)
        if notification.kind == "resolved":
            return f"/v2/alerts/{identifier}/close?identifierType=alias", {
                "source": "firstline",
                "user": "firstline",
                "note": note,
            }
        return f"/v2/alerts/{identifier}/notes?identifierType=alias", {
            "source": "firstline",
            "user": "firstline",
            "note": note,
        }

    def _create_body(self, notification: Notification, alias: str) -> dict[str, Any]:
        priority = self.settings.priority_map.get(notification.severity, "P3")
        link = incident_link(self.public_url, notification.incident_id)
        details = _details(notification, link)
        body: dict[str, Any] = {
            "message": notification.title[:MESSAGE_LIMIT],
            "alias": alias,
            "description": notification.body[:DESCRIPTION_LIMIT],
            "priority": priority if priority in PRIORITIES else "P3",
            "source": "firstline",
            "entity": notification.digest.where if notification.digest else None,
            "tags": [t[:50] for t in self.settings.tags][:20],
            "details": details,
            "responders": [{"type": "team", "name": t} for t in self.settings.responders],
        }
        return {k: v for k, v in body.items() if v not in (None, [])}

    async def deliver(self, notification: Notification, context: DeliveryContext) -> dict[str, str]:
        path, body = self.request(notification, context)
        response = await post_json(
            "Opsgenie",
            self.settings.url.rstrip("/") + path,
            body,
            headers=self._headers,
            timeout=self.settings.timeout_seconds,
        )
        answer = response.json() if response.content else {}
        action = "create" if path == "/v2/alerts" else path.split("/")[-1].split("?")[0]
        return {"action": action, "request_id": str(answer.get("requestId", ""))}


def _note(notification: Notification, public_url: str | None) -> str:
    link = incident_link(public_url, notification.incident_id)
    text = f"{notification.title}\n\n{notification.body}"
    return (text + (f"\n\n{link}" if link else ""))[:NOTE_LIMIT]


def _details(notification: Notification, link: str | None) -> dict[str, str]:
    """Opsgenie details are string to string, at most 8000 characters in all."""
    digest = notification.digest
    details = {"incident_id": notification.incident_id, "event": notification.kind}
    if link:
        details["link"] = link
    if digest is not None:
        details["status"] = digest.status
        if digest.hypotheses:
            top = digest.hypotheses[0]
            details["top_hypothesis"] = f"{top.confidence:.0%} {top.pattern}: {top.cause}"
        details["decision"] = digest.decision
    while len(json.dumps(details)) > DETAILS_LIMIT:
        longest = max(details, key=lambda k: len(details[k]))
        details[longest] = details[longest][: len(details[longest]) // 2] + "…"
    return details
