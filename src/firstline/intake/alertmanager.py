"""Prometheus Alertmanager webhook (version 4) payloads."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from firstline.domain.alert import Alert, AlertStatus
from firstline.intake.errors import AlertParseError
from firstline.intake.normalise import build_alert, first_error, parse_end_time, require_object


class WebhookAlert(BaseModel):
    """One alert of Alertmanager's webhook body; Grafana's body extends it."""

    model_config = ConfigDict(populate_by_name=True)

    status: AlertStatus = AlertStatus.FIRING
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: str | None = Field(default=None, alias="endsAt")
    generator_url: str | None = Field(default=None, alias="generatorURL")
    fingerprint: str | None = None


class _AMWebhook(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    version: str = "4"
    status: str = "firing"
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    alerts: list[WebhookAlert] = Field(min_length=1)


def alerts_from_items(
    items: Sequence[WebhookAlert],
    payload: dict[str, Any],
    source: str,
    annotations_of: Callable[[WebhookAlert], dict[str, str]] | None = None,
) -> list[Alert]:
    """Alerts from webhook items in the sender's order, each keeping its raw item."""
    alerts = []
    for index, item in enumerate(items):
        where = f"alerts.{index}"
        name = item.labels.get("alertname")
        if not name:
            raise AlertParseError(f"{where}.labels: the alertname label is missing")
        alerts.append(
            build_alert(
                where=where,
                source=source,
                name=name,
                status=item.status,
                labels=item.labels,
                annotations=annotations_of(item) if annotations_of else item.annotations,
                starts_at=item.starts_at,
                ends_at=parse_end_time(item.ends_at, f"{where}.endsAt"),
                fingerprint=item.fingerprint,
                generator_url=item.generator_url,
                raw=payload["alerts"][index],
            )
        )
    return alerts


def parse_webhook(payload: Any) -> list[Alert]:
    """All alerts of one webhook call, in the sender's order."""
    payload = require_object(payload, "an Alertmanager webhook")
    if str(payload.get("version", "4")) != "4":
        raise AlertParseError(f"unsupported Alertmanager webhook version {payload['version']!r}")
    try:
        webhook = _AMWebhook.model_validate(payload)
    except ValidationError as exc:
        raise AlertParseError(
            f"not an Alertmanager webhook v4 payload: {first_error(exc)}"
        ) from exc
    return alerts_from_items(webhook.alerts, payload, "alertmanager")


def load_webhook_file(path: Path) -> list[Alert]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise AlertParseError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise AlertParseError(f"{path}: cannot read ({exc})") from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AlertParseError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    try:
        return parse_webhook(payload)
    except AlertParseError as exc:
        raise AlertParseError(f"{path}: {exc}") from exc
