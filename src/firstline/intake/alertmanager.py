"""Prometheus Alertmanager webhook (version 4) payloads."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from firstline.domain.alert import Alert, AlertStatus, fingerprint_labels
from firstline.intake.errors import AlertParseError

# Alertmanager uses this for "no end time" on firing alerts.
_ZERO_TIME_PREFIX = "0001-01-01"


class _AMAlert(BaseModel):
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
    alerts: list[_AMAlert] = Field(min_length=1)


def _end_time(value: str | None) -> datetime | None:
    if not value or value.startswith(_ZERO_TIME_PREFIX):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise AlertParseError(f"endsAt {value!r} is not an RFC 3339 time") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "payload"
    return f"{where}: {err['msg']}"


def parse_webhook(payload: Any) -> list[Alert]:
    """All alerts of one webhook call, in the sender's order."""
    if not isinstance(payload, dict):
        raise AlertParseError("an Alertmanager webhook payload must be a JSON object")
    if str(payload.get("version", "4")) != "4":
        raise AlertParseError(f"unsupported Alertmanager webhook version {payload['version']!r}")
    try:
        webhook = _AMWebhook.model_validate(payload)
    except ValidationError as exc:
        raise AlertParseError(
            f"not an Alertmanager webhook v4 payload: {_first_error(exc)}"
        ) from exc
    alerts = []
    for index, item in enumerate(webhook.alerts):
        name = item.labels.get("alertname")
        if not name:
            raise AlertParseError(f"alerts.{index}.labels: the alertname label is missing")
        alerts.append(
            Alert(
                source="alertmanager",
                name=name,
                status=item.status,
                labels=item.labels,
                annotations=item.annotations,
                starts_at=item.starts_at,
                ends_at=_end_time(item.ends_at),
                fingerprint=item.fingerprint or fingerprint_labels(item.labels),
                generator_url=item.generator_url,
                raw=payload["alerts"][index],
            )
        )
    return alerts


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
