"""Fault switches: `POST /admin/faults/{name}` with `{"on": true, ...params}` turns one on (or
off), `GET /admin/faults` lists their states. Each fault really breaks the service; none of
them fakes a symptom."""

from __future__ import annotations

from typing import Any, Protocol

from firstline.errors import InvalidValue


class FaultError(InvalidValue):
    """Bad parameters for a fault: the admin API answers 400 with this text."""


class Fault(Protocol):
    async def switch(self, on: bool, params: dict[str, Any]) -> None: ...

    def state(self) -> dict[str, Any]: ...


class Flag:
    """A fault that is simply on or off; the service reads `on` (and its params) per request."""

    def __init__(self, **defaults: Any) -> None:
        self.on = False
        self.defaults = defaults
        self.params: dict[str, Any] = dict(defaults)

    async def switch(self, on: bool, params: dict[str, Any]) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise FaultError(f"unknown parameters: {', '.join(sorted(unknown))}")
        merged = {**self.defaults, **params}
        for name, default in self.defaults.items():
            if isinstance(default, int | float):
                merged[name] = positive_number(merged, name, default)
        self.on = on
        self.params = merged

    def state(self) -> dict[str, Any]:
        return {"on": self.on, **self.params}


def positive_number(params: dict[str, Any], name: str, default: float) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise FaultError(f"{name} must be a positive number, not {value!r}")
    return float(value)
