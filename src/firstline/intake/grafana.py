"""Grafana Alerting (unified alerting) webhook contact point payloads.

Grafana's body is Alertmanager's shape (it runs an embedded Alertmanager) plus its own
per-alert links and the query values that fired the rule; those go into annotations.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from firstline.domain.alert import Alert
from firstline.intake.alertmanager import WebhookAlert, alerts_from_items
from firstline.intake.errors import AlertParseError
from firstline.intake.normalise import (
    compact,
    first_error,
    require_object,
)
from firstline.intake.signatures import hmac_sha256_hex, matches_any

# Grafana signs with the body alone, or "<timestamp>:<body>" when a timestamp header is set.
_TIMESTAMP_SEPARATOR = b":"


class _GrafanaAlert(WebhookAlert):
    """Alertmanager's per-alert fields plus Grafana's links and query values."""

    silence_url: str | None = Field(default=None, alias="silenceURL")
    dashboard_url: str | None = Field(default=None, alias="dashboardURL")
    panel_url: str | None = Field(default=None, alias="panelURL")
    image_url: str | None = Field(default=None, alias="imageURL")
    values: dict[str, float | None] | None = None
    value_string: str | None = Field(default=None, alias="valueString")


class _GrafanaWebhook(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    receiver: str = ""
    status: str = "firing"
    org_id: int | None = Field(default=None, alias="orgId")
    group_key: str | None = Field(default=None, alias="groupKey")
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")
    alerts: list[_GrafanaAlert] = Field(min_length=1)


def _number(value: float | None) -> str:
    if value is None:
        return "null"
    return str(int(value)) if value.is_integer() else repr(value)


def _values_text(values: dict[str, float | None] | None) -> str | None:
    """Query values as 'B=44.2, C=1', sorted by ref id so the text is stable."""
    if not values:
        return None
    return ", ".join(f"{ref}={_number(val)}" for ref, val in sorted(values.items()))


def _extra_annotations(item: _GrafanaAlert, webhook: _GrafanaWebhook) -> dict[str, str]:
    links = compact(
        {
            "silence_url": item.silence_url,
            "dashboard_url": item.dashboard_url,
            "panel_url": item.panel_url,
            "image_url": item.image_url,
            "values": _values_text(item.values),
            "value_string": item.value_string,
            "grafana_receiver": webhook.receiver,
            "grafana_org_id": str(webhook.org_id) if webhook.org_id is not None else None,
        }
    )
    # The rule author's own annotations win over ours on a name clash.
    return {**links, **item.annotations}


def parse_webhook(payload: Any) -> list[Alert]:
    """All alerts of one Grafana webhook notification, in the sender's order.

    Grafana's own fingerprint is kept (it hashes the labels as Alertmanager does), so an
    alert that fires, repeats and resolves is one alert here too.
    """
    payload = require_object(payload, "a Grafana webhook")
    try:
        webhook = _GrafanaWebhook.model_validate(payload)
    except ValidationError as exc:
        raise AlertParseError(f"not a Grafana webhook payload: {first_error(exc)}") from exc
    return alerts_from_items(
        webhook.alerts,
        payload,
        "grafana",
        lambda item: _extra_annotations(cast(_GrafanaAlert, item), webhook),
    )


def verify_grafana_signature(
    body: bytes,
    signature: str | None,
    secrets: list[str],
    timestamp: str | None = None,
) -> bool:
    """Check Grafana's optional HMAC signature header (contact point "HMAC Signature").

    The header holds the bare hex HMAC-SHA256 (no prefix) of the raw body, or of
    '<timestamp>:<body>' when the contact point names a timestamp header; pass that
    header's value as timestamp. Several secrets may be given for rotation. Checking the
    timestamp's age against a replay window is the caller's job: it needs a clock.
    """
    if not signature or not secrets:
        return False
    signed = body
    if timestamp is not None:
        if not timestamp.strip().isdigit():
            return False
        signed = timestamp.strip().encode() + _TIMESTAMP_SEPARATOR + body
    expected = [hmac_sha256_hex(secret, signed) for secret in secrets if secret]
    return matches_any(signature.strip().lower(), expected)
