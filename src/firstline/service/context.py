"""What the app's routes and workers share, built once by `firstline serve`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from firstline.delivery.setup import Delivery
from firstline.graph.runner import IncidentRunner
from firstline.reasoning.llm.usage import UsageLedger
from firstline.service.auth import Authenticator
from firstline.service.metrics import ServiceMetrics
from firstline.service.settings import ServeSettings
from firstline.store.base import IncidentRepository, IntakeRepository
from firstline.store.settings import StoreSettings


class WorkSignal:
    """ "There may be queued work": set from any thread (the HTTP loop, the ingest thread),
    awaited by the workers on their own loop. Before the workers bind it, `set` is a no-op:
    workers look at the queue when they start, and every `idle_poll_seconds` anyway."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self) -> None:
        """Called on the workers' loop, before they wait."""
        with self._lock:
            self._loop, self._event = asyncio.get_running_loop(), asyncio.Event()

    def set(self) -> None:
        with self._lock:
            loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def clear(self) -> None:
        if self._event is not None:
            self._event.clear()

    async def wait(self) -> None:
        """Until set; on the workers' loop (they bound it with a timeout)."""
        if self._event is None:
            await asyncio.Event().wait()  # never set: the caller's timeout ends it
        else:
            await self._event.wait()


class SubscriptionConfirmer(Protocol):
    async def confirm(self, subscribe_url: str) -> bool: ...


@dataclass
class ServiceContext:
    settings: ServeSettings
    intake: IntakeRepository
    store: IncidentRepository
    runner: IncidentRunner
    authenticator: Authenticator
    metrics: ServiceMetrics
    confirmer: SubscriptionConfirmer
    delivery: Delivery | None = None
    slack_signing_secret: SecretStr | None = None
    slack_principals: dict[str, str] = field(default_factory=dict)
    """Slack user id -> principal (notify.slack.principals)."""
    llm_usage: UsageLedger = field(default_factory=UsageLedger)
    """Model usage per incident in this process, exported on /metrics."""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    store_settings: StoreSettings | None = None
    """For the workers' periodic compaction and retention (store.compact_interval_seconds)."""
    report_templates: Path | None = None
    """Templates overriding the built-in postmortem ones (report.templates_dir)."""
    lease_seconds: float = 30.0
    """How long a worker's claim on a run lasts without renewal (store.lease_seconds)."""
    work_available: WorkSignal = field(default_factory=WorkSignal)
    ingest_writers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="firstline-ingest")
    )
    """Deliveries are stored here, off the event loop, so probes and other requests are
    answered while a large delivery is written. As many threads as the store has useful
    writers (`Database.concurrent_writers`): one on SQLite, whose single write lock would
    make a second thread wait anyway; several on PostgreSQL, where a delivery spends most
    of its time waiting on the network and deliveries of other groups need not wait."""
