"""Datadog webhook integration payloads.

The Webhooks integration's documented default body is
{"body", "last_updated", "event_type", "title", "date", "org": {"id", "name"}, "id"}, and
most people extend it with more template variables (alert_id, alert_transition, tags,
...). Every field but the title is optional here so both shapes parse; the extra fields
make the alert richer and its fingerprint better. Datadog renders template variables as
strings, so ids and epochs may arrive as strings or (unquoted) as numbers.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError

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

# $ALERT_TRANSITION values. Only a recovery resolves; a warning or a no-data state is still
# something firstline should look at, at the severity the monitor gives it.
_RESOLVED_TRANSITIONS = {"recovered", "warn recovered", "no data recovered"}
# Longest first, so "[Re-Triggered" and "[Warn Recovered" are not read as shorter words.
_TRANSITION_WORDS = (
    "Warn Recovered|No Data Recovered|Re-Triggered|Re-No Data|Re-Notify|Re-Warn"
    "|Triggered|Recovered|Renotify|No Data|Warn"
)
# $EVENT_TITLE starts with the transition, and sometimes the priority, in brackets:
# "[P1] [Triggered on {host:web-1}] CPU is high". The name is what follows.
_TITLE_PREFIX = re.compile(
    rf"^\s*(?:\[(?:P[1-5]|{_TRANSITION_WORDS})\b[^\]]*\]\s*)+", re.IGNORECASE
)
_TITLE_TRANSITION = re.compile(rf"\[({_TRANSITION_WORDS})\b", re.IGNORECASE)

_Text = str | int | None


class _Org(BaseModel):
    id: _Text = None
    name: str | None = None


class _DatadogEvent(BaseModel):
    title: str = ""
    body: str | None = None
    id: _Text = None
    date: _Text = None
    last_updated: _Text = None
    event_type: str | None = None
    org: _Org | None = None
    alert_id: _Text = None
    alert_title: str | None = None
    alert_transition: str | None = None
    alert_status: str | None = None
    alert_type: str | None = None
    alert_scope: str | list[str] | None = None
    alert_metric: str | None = None
    alert_priority: str | None = None
    priority: str | None = None
    tags: str | list[str] | None = None
    hostname: str | None = None
    host_name: str | None = None
    url: str | None = None
    link: str | None = None


def _text(value: _Text) -> str | None:
    return None if value is None or value == "" else str(value)


def _name(event: _DatadogEvent) -> str:
    title = event.alert_title or event.title
    name = _TITLE_PREFIX.sub("", title).strip()
    if not name:
        raise AlertParseError("title: the Datadog event has no title to name the alert by")
    return name


def _status(event: _DatadogEvent) -> AlertStatus:
    """From $ALERT_TRANSITION, else the title's bracket, else $ALERT_TYPE; firing by default."""
    transition = (event.alert_transition or "").strip()
    if not transition:
        found = _TITLE_TRANSITION.search(event.title)
        transition = found.group(1) if found else ""
    if transition:
        resolved = transition.lower() in _RESOLVED_TRANSITIONS
    else:
        resolved = (event.alert_type or "").strip().lower() == "success"
    return AlertStatus.RESOLVED if resolved else AlertStatus.FIRING


def _labels(event: _DatadogEvent, scope: list[str]) -> dict[str, str]:
    labels = tags_to_labels(split_tags(event.tags))
    # The scope is the group that triggered (host:web-1); it beats a monitor-level tag.
    labels.update(tags_to_labels(scope))
    fixed = compact(
        {
            "host": event.hostname or event.host_name,
            "datadog_monitor_id": _text(event.alert_id),
            "severity": event.alert_priority or event.priority,
            "metric": event.alert_metric,
        }
    )
    # Fields Datadog fills itself are more trustworthy than free-form tags of the same name.
    return {**labels, **fixed}


def _annotations(event: _DatadogEvent) -> dict[str, str]:
    org = event.org or _Org()
    return compact(
        {
            "summary": event.alert_status,
            "description": event.body,
            "title": event.title,
            "alert_transition": event.alert_transition,
            "alert_type": event.alert_type,
            "event_type": event.event_type,
            "event_id": _text(event.id),
            "priority": event.priority,
            "tags": ", ".join(split_tags(event.tags)) or None,
            "alert_scope": ", ".join(split_tags(event.alert_scope)) or None,
            "datadog_org": org.name,
            "datadog_org_id": _text(org.id),
        }
    )


def parse_webhook(payload: Any) -> list[Alert]:
    """One Datadog notification as one alert.

    The fingerprint is the monitor id with the sorted scope (one alert per monitor group,
    stable from trigger to recovery); without alert_id it falls back to the label hash,
    whose alertname is the title stripped of its "[Triggered]"-style prefix.
    """
    payload = require_object(payload, "a Datadog webhook")
    try:
        event = _DatadogEvent.model_validate(payload)
    except ValidationError as exc:
        raise AlertParseError(f"not a Datadog webhook payload: {first_error(exc)}") from exc
    scope = sorted(split_tags(event.alert_scope))
    status = _status(event)
    date = _text(event.date)
    updated = _text(event.last_updated)
    if date is None and updated is None:
        raise AlertParseError("date: the Datadog event carries no date")
    starts_at = parse_time(date, "date") if date else parse_time(updated, "last_updated")
    # A recovery notification is dated at the recovery: it is both when this state began
    # and when the alert ended. The trigger's time is on the alert it resolves.
    ends_at = starts_at if status is AlertStatus.RESOLVED else None
    monitor_id = _text(event.alert_id)
    return [
        build_alert(
            where="payload",
            source="datadog",
            name=_name(event),
            status=status,
            labels=_labels(event, scope),
            annotations=_annotations(event),
            starts_at=starts_at,
            ends_at=ends_at,
            fingerprint=vendor_fingerprint("datadog", monitor_id, ",".join(scope))
            if monitor_id
            else None,
            generator_url=event.url or event.link,
            raw=payload,
        )
    ]
