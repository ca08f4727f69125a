"""Helpers every vendor parser shares: times, tags, fingerprints, limits and error text.

Each helper raises AlertParseError with a message that names the offending field, so a
sender gets a 4xx it can act on and never a 5xx.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from firstline.domain.alert import Alert, AlertStatus, fingerprint_labels
from firstline.intake.errors import AlertParseError

# A cap, not a guess at real alerts: Alertmanager alerts carry a dozen labels and a Datadog
# host with every cloud tag a few dozen. 128 leaves room for those while keeping one request
# from planting thousands of keys in the store, the fingerprint and every grouping pass.
MAX_LABELS = 128
MAX_ANNOTATIONS = 128

# Alertmanager and Grafana send this for "no end time" on firing alerts.
_ZERO_TIME_PREFIX = "0001-01-01"
_EPOCH_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def first_error(exc: ValidationError) -> str:
    """The first pydantic error as 'dotted.field: message'; one clear message, not a dump."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "payload"
    return f"{where}: {err['msg']}"


def _from_epoch(number: float, where: str) -> datetime:
    # Vendors disagree on the unit (Datadog: ms, Opsgenie: ms and ns in one payload), so the
    # magnitude decides: anything below 1e11 is seconds (up to the year 5138), and so on.
    if not math.isfinite(number) or number < 0:
        raise AlertParseError(f"{where}: {number!r} is not a time")
    for limit, scale in ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6)):
        if number < limit:
            seconds = number / scale
            break
    else:
        seconds = number / 1e9
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise AlertParseError(f"{where}: {number!r} is out of range for a time") from exc


def parse_time(value: Any, where: str) -> datetime:
    """An RFC 3339 string or a Unix epoch (s, ms, us or ns; number or digits) as aware UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AlertParseError(f"{where}: expected a time, got {type(value).__name__}")
    if isinstance(value, int | float):
        return _from_epoch(float(value), where)
    text = value.strip()
    if _EPOCH_NUMBER.match(text):
        return _from_epoch(float(text), where)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise AlertParseError(f"{where}: {value!r} is not an RFC 3339 time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_end_time(value: Any, where: str) -> datetime | None:
    """Like parse_time, but empty and Go's zero time mean "still firing"."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.startswith(_ZERO_TIME_PREFIX):
        return None
    return parse_time(value, where)


def vendor_fingerprint(vendor: str, *parts: str) -> str:
    """A stable 16-hex fingerprint from a vendor's own identity for an alert.

    Namespaced by vendor so that, say, a PagerDuty incident id can never collide with an
    Opsgenie alert id, and the same shape as fingerprint_labels for the store's sake.
    """
    canonical = json.dumps([vendor, *parts], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def split_tags(value: str | Iterable[str] | None) -> list[str]:
    """Tags as a list, from Datadog's "a:b, c" string or a JSON list; blanks dropped."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def tags_to_labels(tags: Iterable[str]) -> dict[str, str]:
    """'key:value' tags as labels. Bare tags carry no key, so they stay out of the labels.

    A key seen twice (Datadog allows 'team:a, team:b') keeps every value, comma-joined in
    the order given, so no information is dropped and the result is still deterministic.
    """
    labels: dict[str, str] = {}
    for tag in tags:
        key, sep, val = tag.partition(":")
        key, val = key.strip(), val.strip()
        if not sep or not key:
            continue
        if key in labels and val not in labels[key].split(","):
            labels[key] = f"{labels[key]},{val}"
        else:
            labels.setdefault(key, val)
    return labels


def compact(values: Mapping[str, str | None]) -> dict[str, str]:
    """Only the entries that carry text; vendors send "" and null for "not set"."""
    return {key: val for key, val in values.items() if val}


def build_alert(
    *,
    where: str,
    source: str,
    name: str,
    status: AlertStatus,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    starts_at: datetime,
    ends_at: datetime | None,
    fingerprint: str | None,
    generator_url: str | None,
    raw: dict[str, Any],
) -> Alert:
    """The Alert, after the checks every vendor shares: name, label and annotation caps.

    The name is also set as the alertname label when the vendor gave none, so grouping by
    alertname (Alertmanager's habit) works the same whatever sent the alert.
    """
    name = name.strip()
    if not name:
        raise AlertParseError(f"{where}: the alert has no name")
    merged = dict(labels)
    merged.setdefault("alertname", name)
    if len(merged) > MAX_LABELS:
        raise AlertParseError(f"{where}: {len(merged)} labels, more than the {MAX_LABELS} allowed")
    if len(annotations) > MAX_ANNOTATIONS:
        raise AlertParseError(
            f"{where}: {len(annotations)} annotations, more than the {MAX_ANNOTATIONS} allowed"
        )
    try:
        return Alert(
            source=source,
            name=name,
            status=status,
            labels=merged,
            annotations=dict(annotations),
            starts_at=starts_at,
            ends_at=ends_at,
            fingerprint=fingerprint or fingerprint_labels(merged),
            generator_url=generator_url or None,
            raw=raw,
        )
    except ValidationError as exc:
        raise AlertParseError(f"{where}: {first_error(exc)}") from exc


def require_object(payload: Any, what: str) -> dict[str, Any]:
    """The payload as a JSON object, or the one error every parser gives for anything else."""
    if not isinstance(payload, dict):
        raise AlertParseError(f"{what} payload must be a JSON object, not {json_kind(payload)}")
    return payload


def json_kind(value: Any) -> str:
    """What a decoded JSON value is, in JSON's words, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__
