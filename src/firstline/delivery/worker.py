"""The delivery worker: takes due outbox rows, sends them, and records every attempt.

At least once: a row is marked delivered only after the vendor said yes, so a crash in
between sends it again, and the vendor's dedup key (one per incident) turns the repeat into
an update of the same page rather than a second page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import structlog

from firstline.delivery.backoff import next_delay
from firstline.delivery.metrics import DeliveryCounters
from firstline.domain.incident import TimelineEntry
from firstline.notify.base import (
    DeliveryContext,
    Notification,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    VendorNotifier,
)
from firstline.notify.settings import DeliverySettings
from firstline.notify.trace import traced_attempt
from firstline.store.incidents import IncidentStore
from firstline.store.outbox import Outbox, OutboxRow

log = structlog.get_logger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Attempted(NamedTuple):
    outcome: str  # delivered | retry | failed
    error: str | None = None
    retry_in_seconds: float | None = None


# a retry is expected now and then; a notification given up is a person not told
_LEVELS = {"delivered": logging.INFO, "retry": logging.WARNING, "failed": logging.ERROR}


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        incidents: IncidentStore,
        notifiers: Mapping[str, VendorNotifier],
        settings: DeliverySettings,
        *,
        counters: DeliveryCounters | None = None,
        clock: Callable[[], datetime] = _utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox = outbox
        self.incidents = incidents
        self.notifiers = dict(notifiers)
        self.settings = settings
        self.counters = counters or DeliveryCounters()
        self.clock = clock
        self.rng = rng or random.Random()
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    async def run_once(self) -> int:
        """Send every row that is due now; returns how many were tried."""
        rows = self.outbox.claim_due(
            now=self.clock(),
            owner=self.owner,
            lease_seconds=self.settings.lease_seconds,
            limit=self.settings.batch_size,
        )
        # Rows claimed together belong to different chains (only a chain's head is due).
        await asyncio.gather(*(self._attempt(row) for row in rows))
        return len(rows)

    async def drain(self, within_seconds: float) -> bool:
        """Deliver until nothing is pending (True) or the time is up (False).
        For one-shot commands; a server runs `run_forever` instead."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_seconds
        while True:
            await self.run_once()
            due = self.outbox.next_due_at()
            if due is None:
                return True
            wait = max(0.0, (due - self.clock()).total_seconds())
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(wait, left, self.settings.poll_interval_seconds))

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                tried = await self.run_once()
            except Exception:  # a locked or broken DB must not kill the worker for good
                log.exception("delivery_round_failed")
                tried = 0
            if tried == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.poll_interval_seconds)

    async def _attempt(self, row: OutboxRow) -> None:
        with (
            structlog.contextvars.bound_contextvars(incident_id=row.incident_id),
            traced_attempt() as trace,
        ):
            done = await self._send(row)
            log.log(
                _LEVELS[done.outcome],
                "notification_attempt",
                channel=row.notifier,
                kind=row.kind,
                attempt=row.attempts + 1,
                outcome=done.outcome,
                status_code=trace.status_code,
                error=done.error,
                retry_in_seconds=done.retry_in_seconds,
            )

    async def _send(self, row: OutboxRow) -> _Attempted:
        """One attempt, recorded in the outbox and the incident's timeline."""
        attempt = row.attempts + 1
        notifier = self.notifiers.get(row.notifier)
        if notifier is None:
            return self._give_up(
                row, attempt, f"notifier {row.notifier} is not configured any more"
            )
        context = DeliveryContext(
            dedup_key=row.dedup_key,
            event_id=f"{row.incident_id}:{row.event_key}",
            attempt=attempt,
            receipts=self.outbox.receipts(row.incident_id, row.notifier),
        )
        try:
            notification = Notification.model_validate_json(row.payload)
            receipt = await asyncio.wait_for(
                notifier.deliver(notification, context), self.settings.attempt_timeout_seconds
            )
        except PermanentDeliveryError as exc:
            return self._give_up(row, attempt, str(exc))
        except TemporaryDeliveryError as exc:
            return self._retry(row, attempt, str(exc), exc.retry_after)
        except TimeoutError:
            timeout = self.settings.attempt_timeout_seconds
            return self._retry(row, attempt, f"no answer within {timeout:.0f}s", None)
        except Exception as exc:  # unknown failures are retried; the cap bounds them
            return self._retry(row, attempt, f"{type(exc).__name__}: {exc}", None)
        self.outbox.mark_delivered(row.id, owner=self.owner, now=self.clock(), receipt=receipt)
        self.counters.record(row.notifier, "delivered")
        self._timeline(row, attempt, "delivered", f"notified via {row.notifier}",
                       f"{row.kind}, attempt {attempt}")  # fmt: skip
        return _Attempted("delivered")

    def _retry(
        self, row: OutboxRow, attempt: int, error: str, retry_after: float | None
    ) -> _Attempted:
        if attempt >= self.settings.max_attempts:
            return self._give_up(row, attempt, f"{error} (gave up after {attempt} attempts)")
        delay = next_delay(attempt, retry_after, self.settings, self.rng)
        self.outbox.mark_retry(
            row.id, owner=self.owner, error=error,
            next_attempt_at=self.clock() + timedelta(seconds=delay),
        )  # fmt: skip
        self.counters.record(row.notifier, "retry")
        why = "Retry-After" if retry_after is not None else "backoff"
        self._timeline(
            row, attempt, "retry",
            f"notification via {row.notifier} failed (attempt {attempt} of"
            f" {self.settings.max_attempts})",
            f"{row.kind}: {error}; next try in {delay:.1f}s ({why})",
        )  # fmt: skip
        return _Attempted("retry", error, round(delay, 2))

    def _give_up(self, row: OutboxRow, attempt: int, error: str) -> _Attempted:
        self.outbox.mark_failed(row.id, owner=self.owner, error=error)
        self.counters.record(row.notifier, "failed")
        self._timeline(row, attempt, "failed", f"notification via {row.notifier} failed for good",
                       f"{row.kind}: {error}")  # fmt: skip
        return _Attempted("failed", error)

    def _timeline(
        self, row: OutboxRow, attempt: int, outcome: str, event: str, detail: str
    ) -> None:
        entry = TimelineEntry(
            key=f"notify-{row.id:06d}-{attempt:03d}-{outcome}",
            at=self.clock(),
            stage="notify",
            event=event,
            detail=detail,
        )
        self.incidents.append_timeline(row.incident_id, [entry])
