"""The policy file's guard-rail sections: which actions may run where, how often, when not
at all, and how big. Documented in docs/policy.md#guard-rails."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from firstline.domain.action import ActionType, Target
from firstline.domain.alert import Severity

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '1h', '2d' -> timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 90s, 15m, 1h or 2d")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _globs_match(patterns: tuple[str, ...], value: str) -> bool:
    return any(fnmatchcase(value, p) for p in patterns)


def _types_match(types: tuple[str, ...], action_type: ActionType) -> bool:
    return "*" in types or action_type.value in types


def _check_types(types: tuple[str, ...]) -> tuple[str, ...]:
    known = {t.value for t in ActionType} | {"*"}
    unknown = [t for t in types if t not in known]
    if unknown:
        raise ValueError(f"unknown action type {unknown[0]!r}")
    return types


class ActionRule(BaseModel):
    """One allow or deny rule. Every field defaults to 'anything'; a rule matches an action
    when all of its fields do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    types: tuple[str, ...] = Field(default=("*",), description="Action types, or '*'.")
    namespaces: tuple[str, ...] = Field(
        default=("*",),
        description="Globs on the target's namespace. Cluster-scoped targets (nodes) have no "
        "namespace and match only '*'.",
    )
    targets: tuple[str, ...] = Field(
        default=("*",), description="Globs on 'kind/name', e.g. 'deployment/checkout-*'."
    )
    severities: tuple[Severity, ...] = Field(
        default=tuple(Severity), description="Incident severities the rule applies to."
    )
    cross_namespace: bool = Field(
        default=False,
        description="allow rules only: the target may be in another namespace than the alert.",
    )

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_types(value)

    def matches(self, action_type: ActionType, target: Target, severity: Severity) -> bool:
        namespace_ok = "*" in self.namespaces or (
            target.namespace is not None and _globs_match(self.namespaces, target.namespace)
        )
        return (
            _types_match(self.types, action_type)
            and namespace_ok
            and _globs_match(self.targets, f"{target.kind}/{target.name}")
            and severity in self.severities
        )

    def describe(self) -> str:
        parts = [",".join(self.types) if self.types != ("*",) else "any action"]
        if self.namespaces != ("*",):
            parts.append(f"in {','.join(self.namespaces)}")
        if self.targets != ("*",):
            parts.append(f"on {','.join(self.targets)}")
        if set(self.severities) != set(Severity):
            parts.append(f"at {','.join(s.value for s in self.severities)}")
        return " ".join(parts)


class ActionRules(BaseModel):
    """Present: an action runs only if an allow rule matches and no deny rule does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: tuple[ActionRule, ...] = ()
    deny: tuple[ActionRule, ...] = ()


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    types: tuple[str, ...] = Field(default=("*",), description="Action types counted, or '*'.")
    max: int = Field(ge=0, description="At most this many in the window (0 = never).")
    window: str = Field(description="Look-back window: 90s, 15m, 1h, 2d.")

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_types(value)

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_duration(value)
        return value.strip()

    @property
    def span(self) -> timedelta:
        return parse_duration(self.window)

    def counts(self, action_type: ActionType) -> bool:
        return _types_match(self.types, action_type)


class RateLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    per_target: tuple[RateLimit, ...] = Field(
        default=(), description="Counted per target (kind, namespace, name), across incidents."
    )
    global_: tuple[RateLimit, ...] = Field(
        default=(), alias="global", description="Counted over every target and incident."
    )


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


def _clock(value: str) -> time | None:
    """'HH:MM' -> time; '24:00' -> None (end of day)."""
    if value == "24:00":
        return None
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a time of day like 18:00") from exc


class FreezeWindow(BaseModel):
    """Either weekly (days + start + end, UTC; end before start runs past midnight) or
    absolute (starts_at + ends_at)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    days: tuple[Weekday, ...] = ()
    start: str | None = None
    end: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 22:00 as 1320 (base 60)
            raise ValueError('write times of day in quotes, e.g. "22:00"')
        return value

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        weekly = bool(self.days) or self.start is not None or self.end is not None
        absolute = self.starts_at is not None or self.ends_at is not None
        if weekly == absolute:
            raise ValueError("give either days/start/end (weekly) or starts_at/ends_at")
        if weekly:
            if not self.days or self.start is None or self.end is None:
                raise ValueError("a weekly window needs days, start and end")
            _clock(self.start)
            _clock(self.end)
        else:
            if self.starts_at is None or self.ends_at is None:
                raise ValueError("an absolute window needs starts_at and ends_at")
            if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
                raise ValueError("starts_at and ends_at need a time zone (use Z for UTC)")
            if self.ends_at <= self.starts_at:
                raise ValueError("ends_at must be after starts_at")
        return self

    def contains(self, now: datetime) -> bool:
        now = now.astimezone(UTC)
        if self.starts_at is not None and self.ends_at is not None:
            return self.starts_at <= now < self.ends_at
        assert self.start is not None and self.end is not None
        days = list(Weekday)
        for offset in (0, 1):  # a window that started yesterday may still run
            day = (now - timedelta(days=offset)).date()
            if days[day.weekday()] not in self.days:
                continue
            opens = datetime.combine(day, _clock(self.start) or time(0), tzinfo=now.tzinfo)
            end = _clock(self.end)
            closes = datetime.combine(day, end or time(0), tzinfo=now.tzinfo)
            if end is None or closes <= opens:
                closes += timedelta(days=1)
            if opens <= now < closes:
                return True
        return False

    def describe(self) -> str:
        label = f" ({self.name})" if self.name else ""
        if self.starts_at is not None and self.ends_at is not None:
            span = f"{self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M} UTC"
        else:
            span = f"{','.join(self.days)} {self.start}-{self.end} UTC"
        return f"{label} change freeze {span}".strip()


class BlastRadius(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_scale_factor: float | None = Field(
        default=None, gt=0, description="scale: new replicas / current replicas at most this."
    )
    max_replicas: int | None = Field(default=None, ge=0, description="scale: never above this.")
    max_actions_per_incident: int | None = Field(
        default=None, ge=0, description="Objects touched (actions executed) per incident."
    )
