"""The Notifier port."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class Notification(BaseModel):
    """One message about an incident. `body` is plain text readable on one screen."""

    model_config = ConfigDict(frozen=True)

    incident_id: str
    kind: str = Field(description="escalation | approval_request | resolved | recommendation ...")
    severity: str
    title: str
    body: str
    details: dict[str, object] = Field(default_factory=dict)


@runtime_checkable
class Notifier(Protocol):
    name: str

    async def send(self, notification: Notification) -> None: ...
