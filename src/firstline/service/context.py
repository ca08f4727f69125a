"""What the app's routes and workers share, built once by `firstline serve`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from pydantic import SecretStr

from firstline.delivery.setup import Delivery
from firstline.graph.runner import IncidentRunner
from firstline.reasoning.llm.usage import UsageLedger
from firstline.service.auth import Authenticator
from firstline.service.metrics import ServiceMetrics
from firstline.service.settings import ServeSettings
from firstline.store.base import IncidentRepository, IntakeRepository


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
    llm_usage: UsageLedger = field(default_factory=UsageLedger)
    """Model usage per incident in this process, exported on /metrics."""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    work_available: asyncio.Event = field(default_factory=asyncio.Event)
    ingest_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="firstline-ingest")
    )
    """Deliveries are stored here, one at a time, off the event loop: probes and other
    requests are answered while a large delivery is written, and our own writers never
    wait on each other's SQLite lock."""
