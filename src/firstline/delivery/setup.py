"""Builds the vendor notifiers, the outbox writer and the worker from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from firstline.delivery.enqueue import OutboxNotifier
from firstline.delivery.metrics import DeliveryCounters
from firstline.delivery.worker import DeliveryWorker
from firstline.notify.base import VendorNotifier
from firstline.notify.email import EmailNotifier
from firstline.notify.opsgenie import OpsgenieNotifier
from firstline.notify.pagerduty import PagerDutyNotifier
from firstline.notify.routing import Router
from firstline.notify.settings import VendorSettings
from firstline.notify.slack import SlackNotifier
from firstline.notify.webhook import WebhookNotifier
from firstline.store.database import Database
from firstline.store.incidents import IncidentStore
from firstline.store.outbox import Outbox


def build_vendor_notifiers(settings: VendorSettings) -> list[VendorNotifier]:
    url = settings.public_url
    found: list[VendorNotifier] = []
    if settings.pagerduty.enabled:
        found.append(PagerDutyNotifier(settings.pagerduty, url))
    if settings.opsgenie.enabled:
        found.append(OpsgenieNotifier(settings.opsgenie, url))
    if settings.slack.enabled:
        found.append(SlackNotifier(settings.slack, url))
    if settings.webhook.enabled:
        found.append(WebhookNotifier(settings.webhook, url))
    if settings.email.enabled:
        found.append(EmailNotifier(settings.email, url))
    return found


@dataclass
class Delivery:
    outbox_notifier: OutboxNotifier
    worker: DeliveryWorker

    @property
    def enabled(self) -> bool:
        return bool(self.worker.notifiers)


def build_delivery(
    settings: VendorSettings,
    incidents_db: Database | Path,
    clock: Callable[[], datetime],
    counters: DeliveryCounters | None = None,
    notifiers: list[VendorNotifier] | None = None,
) -> Delivery:
    chosen = build_vendor_notifiers(settings) if notifiers is None else notifiers
    outbox = Outbox(incidents_db)
    router = Router(settings.routing, [n.name for n in chosen])
    return Delivery(
        outbox_notifier=OutboxNotifier(outbox, chosen, router, clock),
        worker=DeliveryWorker(
            outbox,
            IncidentStore(incidents_db),
            {n.name: n for n in chosen},
            settings.delivery,
            counters=counters,
            clock=clock,
        ),
    )
