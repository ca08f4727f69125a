"""The Notifier ports.

Two kinds of notifier:

- `Notifier`: sends at once (console, JSON lines). A failure is a timeline note.
- `VendorNotifier`: a remote service (PagerDuty, Opsgenie, Slack, webhook, email). The graph
  never calls it: notifications for it go to the outbox, and the delivery worker calls
  `deliver` with retries. It raises the delivery errors below so the worker knows whether
  to try again.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from firstline.errors import FirstlineError, InvalidValue, PermanentError, TemporaryError
from firstline.notify.content import IncidentDigest


class Notification(BaseModel):
    """One message about an incident. `body` is plain text readable on one screen."""

    model_config = ConfigDict(frozen=True)

    incident_id: str
    kind: str = Field(
        description="approval_request | acting | escalation | resolved | recommendation | dismissed"
    )
    severity: str
    title: str
    body: str
    details: dict[str, object] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict, description="The alert's labels.")
    round: int | None = Field(
        default=None,
        description="Approval or remediation round; makes repeated events of a kind distinct.",
    )
    digest: IncidentDigest | None = Field(
        default=None, description="The same facts as `body`, structured for rich formats."
    )

    @property
    def event_key(self) -> str:
        """What this event is within its incident: one outbox row per notifier and key."""
        return self.kind if self.round is None else f"{self.kind}:{self.round}"


@runtime_checkable
class Notifier(Protocol):
    name: str

    async def send(self, notification: Notification) -> None: ...


@runtime_checkable
class Enqueuer(Protocol):
    """A notifier that only records notifications for later delivery (the outbox)."""

    name: str

    async def send(self, notification: Notification) -> None: ...

    def enqueue(self, notification: Notification) -> list[str]:
        """Queue the notification; returns the notifiers it was queued for."""
        ...


class DeliveryContext(BaseModel):
    """What the delivery worker knows beyond the notification itself."""

    model_config = ConfigDict(frozen=True)

    dedup_key: str = Field(description="The vendor's key for this incident: one page, ever.")
    event_id: str = Field(description="Stable id of this event; the same on every retry.")
    attempt: int = Field(ge=1)
    receipts: list[dict[str, str]] = Field(
        default_factory=list,
        description="What earlier deliveries of this incident to this notifier returned"
        " (e.g. Slack's channel and ts), oldest first.",
    )


@runtime_checkable
class VendorNotifier(Protocol):
    name: str

    def handles(self, kind: str) -> bool:
        """Whether this notifier has anything to do for this kind of event."""
        ...

    def dedup_key(self, incident_id: str) -> str: ...

    async def deliver(self, notification: Notification, context: DeliveryContext) -> dict[str, str]:
        """Deliver once; returns a receipt (vendor ids) or raises a DeliveryError."""
        ...


_S = TypeVar("_S")


class SettingsNotifier(Generic[_S]):
    """What every vendor notifier shares: refusing to exist half-configured, its settings,
    the URL links point back to, which event kinds it sends, and its dedup key."""

    kinds: Collection[str] | None = None
    """Event kinds this vendor has anything to do for; None: every kind."""

    def __init__(self, settings: _S, public_url: str | None = None) -> None:
        if (problem := self.misconfiguration(settings)) is not None:
            raise InvalidValue(problem)
        self.settings = settings
        self.public_url = public_url

    @staticmethod
    def misconfiguration(settings: _S) -> str | None:
        """Why these settings cannot send anything, or None."""
        return None

    def handles(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds

    def dedup_key(self, incident_id: str) -> str:
        return default_dedup_key(incident_id)


class DeliveryError(FirstlineError):
    """A delivery did not succeed. The message says what the vendor answered. The delivery
    worker turns these into an outbox row's retry or failure; they reach no other caller."""


class TemporaryDeliveryError(DeliveryError, TemporaryError):
    """Worth retrying: 5xx, 429, timeouts, refused connections. `retry_after`: the vendor's
    Retry-After, if it sent one."""


class PermanentDeliveryError(DeliveryError, PermanentError):
    """Retrying cannot help: bad credentials, a rejected payload, an unknown channel."""


def default_dedup_key(incident_id: str) -> str:
    return f"firstline-{incident_id}"
