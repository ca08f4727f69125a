"""PagerDuty v3 webhook payloads and their X-PagerDuty-Signature check.

A v3 webhook carries one event: {"event": {"event_type", "occurred_at", "data", ...}}.
Only events whose data is an incident become alerts; every other event (pings, service
changes, notes, responder requests) is a valid delivery with nothing to ingest, so it
parses to no alerts rather than an error: PagerDuty disables subscriptions that keep
failing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from firstline.domain.alert import Alert, AlertStatus
from firstline.intake.errors import AlertParseError
from firstline.intake.normalise import (
    build_alert,
    compact,
    first_error,
    parse_time,
    require_object,
    vendor_fingerprint,
)
from firstline.intake.signatures import hmac_sha256_hex, matches_any

_SIGNATURE_VERSION = "v1="
_RESOLVED_EVENT = "incident.resolved"


class _Reference(BaseModel):
    id: str | None = None
    summary: str | None = None


class _Incident(BaseModel):
    id: str = Field(min_length=1)
    type: str
    title: str = Field(min_length=1)
    status: str | None = None
    urgency: str | None = None
    number: int | None = None
    incident_key: str | None = None
    created_at: str | None = None
    html_url: str | None = None
    service: _Reference | None = None
    priority: _Reference | None = None
    escalation_policy: _Reference | None = None
    teams: list[_Reference] = Field(default_factory=list)
    assignees: list[_Reference] = Field(default_factory=list)


class _Event(BaseModel):
    id: str | None = None
    event_type: str = Field(min_length=1)
    resource_type: str | None = None
    occurred_at: str
    data: dict[str, Any]


class _Envelope(BaseModel):
    event: _Event


def _summaries(refs: list[_Reference]) -> str | None:
    return ",".join(ref.summary for ref in refs if ref.summary) or None


def _labels(incident: _Incident) -> dict[str, str]:
    service = incident.service or _Reference()
    priority = incident.priority.summary if incident.priority else None
    return compact(
        {
            "service": service.summary,
            "pagerduty_service_id": service.id,
            "urgency": incident.urgency,
            # The priority (P1..P5) says more than urgency when the account uses priorities;
            # the policy's severity table reads both vocabularies.
            "severity": priority or incident.urgency,
            "team": _summaries(incident.teams),
            "escalation_policy": incident.escalation_policy.summary
            if incident.escalation_policy
            else None,
        }
    )


def _annotations(event: _Event, incident: _Incident) -> dict[str, str]:
    return compact(
        {
            "summary": incident.title,
            "incident_id": incident.id,
            "incident_number": str(incident.number) if incident.number is not None else None,
            "incident_key": incident.incident_key,
            "pagerduty_status": incident.status,
            "event_type": event.event_type,
            "event_id": event.id,
            "assignees": _summaries(incident.assignees),
        }
    )


def parse_webhook(payload: Any) -> list[Alert]:
    """The incident a v3 webhook event is about, as one alert; no alerts for other events.

    The fingerprint comes from the incident id, so triggered, acknowledged, escalated and
    resolved events of one incident all land on the same alert.
    """
    payload = require_object(payload, "a PagerDuty v3 webhook")
    try:
        event = _Envelope.model_validate(payload).event
    except ValidationError as exc:
        raise AlertParseError(f"not a PagerDuty v3 webhook: {first_error(exc)}") from exc
    if event.data.get("type") != "incident":
        return []
    try:
        incident = _Incident.model_validate(event.data)
    except ValidationError as exc:
        raise AlertParseError(f"not a PagerDuty incident: event.data.{first_error(exc)}") from exc
    occurred = parse_time(event.occurred_at, "event.occurred_at")
    resolved = event.event_type == _RESOLVED_EVENT or incident.status == "resolved"
    starts_at = (
        parse_time(incident.created_at, "event.data.created_at")
        if incident.created_at
        else occurred
    )
    return [
        build_alert(
            where="event.data",
            source="pagerduty",
            name=incident.title,
            status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
            labels=_labels(incident),
            annotations=_annotations(event, incident),
            starts_at=starts_at,
            ends_at=occurred if resolved else None,
            fingerprint=vendor_fingerprint("pagerduty", incident.id),
            generator_url=incident.html_url,
            raw=payload,
        )
    ]


def verify_pagerduty_signature(body: bytes, header: str | None, secrets: list[str]) -> bool:
    """Check X-PagerDuty-Signature: 'v1=<hex HMAC-SHA256 of the raw body>' entries, comma-separated.

    PagerDuty sends one entry per signing secret while a secret rotates, and firstline may
    hold several secrets too (old and new), so any match between the two sets passes.
    Entries of other versions are ignored, as PagerDuty's documentation asks.
    """
    if not header or not secrets:
        return False
    given = [
        entry.strip()[len(_SIGNATURE_VERSION) :].lower()
        for entry in header.split(",")
        if entry.strip().startswith(_SIGNATURE_VERSION)
    ]
    expected = [hmac_sha256_hex(secret, body) for secret in secrets if secret]
    found = False
    for signature in given:
        if matches_any(signature, expected):
            found = True
    return found
