"""Opsgenie alert action webhooks (the outgoing Webhook integration).

One call per action on one alert: {"action": "Create", "alert": {...}, "source": {...}}.
Opsgenie's own times differ in unit within one payload (createdAt in milliseconds,
updatedAt in nanoseconds); parse_time tells them apart by magnitude.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from firstline.domain.alert import Alert, AlertStatus
from firstline.intake.errors import AlertParseError
from firstline.intake.normalise import (
    build_alert,
    compact,
    first_error,
    parse_time,
    require_object,
    split_tags,
    tags_to_labels,
    vendor_fingerprint,
)

# Close ends the alert. Delete does too, from where firstline stands: a deleted alert will
# never be closed, and leaving it firing would hold its incident open forever.
_RESOLVING_ACTIONS = {"close", "delete"}


class _OpsgenieAlert(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    alert_id: str | None = Field(default=None, alias="alertId")
    alias: str | None = None
    tiny_id: str | None = Field(default=None, alias="tinyId")
    message: str = Field(min_length=1)
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    details: dict[str, str] = Field(default_factory=dict)
    entity: str | None = None
    source: str | None = None
    priority: str | None = None
    username: str | None = None
    user_id: str | None = Field(default=None, alias="userId")
    created_at: int | None = Field(default=None, alias="createdAt")
    updated_at: int | None = Field(default=None, alias="updatedAt")


class _ActionSource(BaseModel):
    name: str | None = None
    type: str | None = None


class _OpsgenieWebhook(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    action: str = Field(min_length=1)
    alert: _OpsgenieAlert
    source: _ActionSource | None = None
    integration_name: str | None = Field(default=None, alias="integrationName")


def _labels(alert: _OpsgenieAlert) -> dict[str, str]:
    # Alertmanager's Opsgenie notifier puts the alert's labels into details, so details are
    # labels first of all; "key:value" tags add to them without overriding.
    labels = {**tags_to_labels(alert.tags), **alert.details}
    fixed = compact({"severity": alert.priority, "entity": alert.entity})
    return {**fixed, **labels}


def _annotations(hook: _OpsgenieWebhook) -> dict[str, str]:
    alert = hook.alert
    source = hook.source or _ActionSource()
    return compact(
        {
            "summary": alert.message,
            "description": alert.description,
            "opsgenie_alert_id": alert.alert_id,
            "opsgenie_alias": alert.alias,
            "opsgenie_tiny_id": alert.tiny_id,
            "opsgenie_source": alert.source,
            "action": hook.action,
            "action_by": alert.username,
            "action_source": source.name or source.type,
            "integration": hook.integration_name,
            "tags": ", ".join(split_tags(alert.tags)) or None,
        }
    )


def parse_webhook(payload: Any) -> list[Alert]:
    """The alert an Opsgenie action is about; Close and Delete resolve it, any other action
    (Create, Acknowledge, AddNote, Escalate, ...) reports it still open.

    The fingerprint is Opsgenie's alertId (its alias when the id is missing): every action
    on one Opsgenie alert updates the same firstline alert.
    """
    payload = require_object(payload, "an Opsgenie webhook")
    try:
        hook = _OpsgenieWebhook.model_validate(payload)
    except ValidationError as exc:
        raise AlertParseError(f"not an Opsgenie webhook payload: {first_error(exc)}") from exc
    alert = hook.alert
    identity = alert.alert_id or alert.alias
    if not identity:
        raise AlertParseError("alert.alertId: missing, and there is no alert.alias either")
    if alert.created_at is not None:
        starts_at = parse_time(alert.created_at, "alert.createdAt")
    elif alert.updated_at is not None:
        starts_at = parse_time(alert.updated_at, "alert.updatedAt")
    else:
        raise AlertParseError("alert.createdAt: missing, and there is no alert.updatedAt either")
    resolved = hook.action.strip().lower() in _RESOLVING_ACTIONS
    ends_at = None
    if resolved:
        ends_at = (
            parse_time(alert.updated_at, "alert.updatedAt")
            if alert.updated_at is not None
            else starts_at
        )
    return [
        build_alert(
            where="alert",
            source="opsgenie",
            name=alert.message,
            status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
            labels=_labels(alert),
            annotations=_annotations(hook),
            starts_at=starts_at,
            ends_at=ends_at,
            fingerprint=vendor_fingerprint("opsgenie", identity),
            generator_url=None,
            raw=payload,
        )
    ]
