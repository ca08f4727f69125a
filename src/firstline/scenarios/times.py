"""Times in bundles: absolute RFC 3339, or relative to the bundle's `now` ("-15m", "+30s")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from firstline.errors import InvalidValue

_RELATIVE = re.compile(r"^([+-])(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if not match:
        raise InvalidValue(f"{text!r} is not a duration like 30s, 5m, 2h or 1d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def resolve_time(value: str | datetime, now: datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strip()
    if match := _RELATIVE.match(text):
        delta = timedelta(**{_UNITS[match.group(3)]: float(match.group(2))})
        return now + delta if match.group(1) == "+" else now - delta
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidValue(f"{value!r} is neither an RFC 3339 time nor relative like -15m") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
