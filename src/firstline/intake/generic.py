"""firstline's own generic JSON alert format, for senders with no format of their own.

One alert object, or a JSON array of them:

    {"name": "DiskAlmostFull", "status": "firing", "severity": "high",
     "labels": {"service": "billing", "namespace": "prod"},
     "annotations": {"summary": "disk /data is 93% full"},
     "starts_at": "2026-03-04T14:07:00Z"}

Only "name" is required. Validation is strict, as this format is ours to define: an
unknown field is an error (most likely a typo that would otherwise be silently dropped);
free-form keys belong under "labels" or "annotations".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from firstline.domain.alert import Alert, AlertStatus, Severity
from firstline.intake.errors import AlertParseError
from firstline.intake.normalise import build_alert, first_error, json_kind, parse_time


class GenericAlert(BaseModel):
    """One alert in firstline's generic format; its JSON schema documents the endpoint."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="What is wrong, e.g. 'DiskAlmostFull'.")
    status: AlertStatus = Field(default=AlertStatus.FIRING, description="firing or resolved.")
    severity: Severity | None = Field(default=None, description="critical, high, medium or low.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Identity and grouping: service, namespace, ..."
    )
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Free text for people: summary, description, runbook."
    )
    starts_at: datetime | None = Field(
        default=None, description="RFC 3339; defaults to the time firstline received it."
    )
    ends_at: datetime | None = Field(default=None, description="RFC 3339; for resolved alerts.")
    fingerprint: str | None = Field(
        default=None,
        min_length=1,
        description="The sender's stable id for this alert; defaults to a hash of the labels.",
    )
    source: str | None = Field(
        default=None, min_length=1, description="Which system sent it; kept as the source label."
    )


_ONE = TypeAdapter(GenericAlert)
_MANY = TypeAdapter(list[GenericAlert])


def _merge(labels: dict[str, str], key: str, value: str | None, where: str) -> dict[str, str]:
    """Labels with a top-level field folded in; the two must agree when both are given."""
    if value is None:
        return labels
    if labels.get(key, value) != value:
        raise AlertParseError(
            f"{where}{key}: {value!r} conflicts with {where}labels.{key} {labels[key]!r}"
        )
    return {**labels, key: value}


def _to_alert(item: GenericAlert, where: str, raw: dict[str, Any], now: datetime) -> Alert:
    severity = item.severity.value if item.severity else None
    labels = _merge(item.labels, "severity", severity, where)
    labels = _merge(labels, "source", item.source, where)
    starts_at = parse_time(item.starts_at, f"{where}starts_at") if item.starts_at else now
    ends_at = parse_time(item.ends_at, f"{where}ends_at") if item.ends_at else None
    return build_alert(
        where=where.rstrip(".") or "payload",
        source="generic",
        name=item.name,
        status=item.status,
        labels=labels,
        annotations=item.annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        fingerprint=item.fingerprint,
        generator_url=None,
        raw=raw,
    )


def parse_webhook(payload: Any) -> list[Alert]:
    """One generic alert object, or a non-empty array of them, as alerts in order."""
    now = datetime.now(UTC)
    try:
        if isinstance(payload, dict):
            return [_to_alert(_ONE.validate_python(payload), "", payload, now)]
        if isinstance(payload, list):
            if not payload:
                raise AlertParseError("payload: an empty array has no alerts")
            items = _MANY.validate_python(payload)
            return [_to_alert(item, f"{i}.", payload[i], now) for i, item in enumerate(items)]
    except ValidationError as exc:
        raise AlertParseError(f"not a firstline generic alert: {first_error(exc)}") from exc
    raise AlertParseError(
        f"a generic alert payload must be a JSON object or array, not {json_kind(payload)}"
    )
