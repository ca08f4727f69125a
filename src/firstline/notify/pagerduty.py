"""PagerDuty Events API v2: one alert per incident, keyed by a stable dedup_key.

trigger when a person is needed (approval, escalation, recommendation), acknowledge when
firstline starts acting, resolve when verification passed. A retried trigger with the same
dedup_key adds to the open alert instead of paging again.

The summary (what the PagerDuty app's push shows) is the lead of notify/headline.py, and so
are the first custom details; the console link goes in `links`, the field the Events API
documents for it.
"""

from __future__ import annotations

from typing import Any

from firstline.notify.base import DeliveryContext, Notification, SettingsNotifier
from firstline.notify.headline import Lead, lead
from firstline.notify.http import post_json
from firstline.notify.settings import PagerDutySettings

_ACTIONS = {
    "approval_request": "trigger",
    "escalation": "trigger",
    "recommendation": "trigger",
    "acting": "acknowledge",
    "resolved": "resolve",
}
_SEVERITIES = {"critical", "error", "warning", "info"}
SUMMARY_LIMIT = 1024  # the API rejects longer summaries
DEDUP_KEY_LIMIT = 255


class PagerDutyNotifier(SettingsNotifier[PagerDutySettings]):
    name = "pagerduty"
    kinds = frozenset(_ACTIONS)

    @staticmethod
    def misconfiguration(settings: PagerDutySettings) -> str | None:
        return "PagerDuty needs a routing_key" if settings.routing_key is None else None

    def dedup_key(self, incident_id: str) -> str:
        return super().dedup_key(incident_id)[:DEDUP_KEY_LIMIT]

    def event(self, notification: Notification, dedup_key: str) -> dict[str, Any]:
        assert self.settings.routing_key is not None
        action = _ACTIONS[notification.kind]
        event: dict[str, Any] = {
            "routing_key": self.settings.routing_key.get_secret_value(),
            "event_action": action,
            "dedup_key": dedup_key,
        }
        if action != "trigger":
            return event
        first = lead(notification, self.public_url)
        event["payload"] = self._payload(notification, first)
        event["client"] = "firstline"
        if first.link:
            event["client_url"] = first.link
            event["links"] = [{"href": first.link, "text": f"firstline {notification.incident_id}"}]
        return event

    def _payload(self, notification: Notification, first: Lead) -> dict[str, Any]:
        digest = notification.digest
        severity = self.settings.severity_map.get(notification.severity, "error")
        labels = notification.labels
        payload: dict[str, Any] = {
            "summary": first.one_line[:SUMMARY_LIMIT],
            "source": digest.where if digest else self.settings.source,
            "severity": severity if severity in _SEVERITIES else "error",
            "component": labels.get("service") or labels.get("deployment") or None,
            "group": labels.get("namespace"),
            "class": digest.alert if digest else None,
            "custom_details": _custom_details(notification, first),
        }
        if digest and digest.fired_at:
            payload["timestamp"] = digest.fired_at.isoformat()
        return {k: v for k, v in payload.items() if v is not None}

    async def deliver(self, notification: Notification, context: DeliveryContext) -> dict[str, str]:
        response = await post_json(
            "PagerDuty",
            self.settings.url,
            self.event(notification, context.dedup_key),
            timeout=self.settings.timeout_seconds,
        )
        answer = response.json() if response.content else {}
        return {"dedup_key": str(answer.get("dedup_key") or context.dedup_key)}


def _custom_details(notification: Notification, first: Lead) -> dict[str, Any]:
    """The lead first, so a person reading them top down meets it first; then the rest
    of the report."""
    digest = notification.digest
    details: dict[str, Any] = {
        "what fired": first.fired,
        "top hypothesis": first.hypothesis,
        "ask": first.ask,
    }
    if first.link:
        details["console"] = first.link
    details |= {"incident_id": notification.incident_id, "event": notification.kind}
    if digest is None:
        details["report"] = notification.body
        return details
    details.update(
        {
            "status": digest.status,
            "alert": f"{digest.alert} on {digest.where}: {digest.summary}".strip(": "),
            "top hypotheses": [
                f"{h.confidence:.0%} {h.pattern}: {h.cause}" for h in digest.hypotheses
            ],
            "evidence": digest.evidence,
            "ruled out": digest.ruled_out,
            "actions taken": digest.tried,
            "decision": digest.decision,
            "next steps": digest.next_steps,
        }
    )
    if digest.approval is not None:
        details["approval needed for"] = digest.approval.dry_run
    return details
