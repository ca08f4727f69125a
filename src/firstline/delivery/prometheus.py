"""Delivery numbers for /metrics, in prometheus-client terms."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from firstline.delivery.metrics import DeliveryCounters
from firstline.store.outbox import Outbox


class _OutboxRows(Collector):
    """Reads the outbox at scrape time, so every process sees the same numbers."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "firstline_outbox_rows", "Notification outbox rows by status.", labels=["status"]
        )
        for status, count in self.outbox.counts().items():
            family.add_metric([status], count)
        yield family


def register_delivery_metrics(
    counters: DeliveryCounters, outbox: Outbox, registry: CollectorRegistry
) -> None:
    attempts = Counter(
        "firstline_notification_attempts",
        "Notification delivery attempts by notifier and outcome (delivered, retry, failed).",
        ["notifier", "outcome"],
        registry=registry,
    )
    counters.listeners.append(lambda notifier, outcome: attempts.labels(notifier, outcome).inc())
    registry.register(_OutboxRows(outbox))
