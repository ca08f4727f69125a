"""firstline's own Prometheus metrics, in a registry per app (tests run several apps)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from firstline.store.audit import Head
from firstline.store.errors import StoreError

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _QueueDepth(Collector):
    """Read at scrape time from the store, so it is right after a restart too."""

    def __init__(self, depth: Callable[[], dict[str, int]]) -> None:
        self.depth = depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "firstline_queue_incidents", "Incidents in the investigation queue by state.",
            labels=["state"],
        )  # fmt: skip
        try:
            depth = self.depth()
        except StoreError:  # the store is down: /metrics still answers (readiness says why)
            depth = {}
        for state, count in sorted(depth.items()):
            family.add_metric([state], count)
        yield family


class _AuditHead(Collector):
    """The audit chain's head, an external anchor for whoever scrapes it (docs/audit.md)."""

    def __init__(self, head: Callable[[], Head | None]) -> None:
        self.head = head

    def collect(self) -> Iterator[GaugeMetricFamily]:
        records = GaugeMetricFamily("firstline_audit_records", "Records in the audit chain.")
        info = GaugeMetricFamily(
            "firstline_audit_head", "The audit chain's newest hash (1; the hash is a label).",
            labels=["hash"],
        )  # fmt: skip
        try:
            head = self.head()
        except StoreError:
            head = None
        if head is not None:
            records.add_metric([], head.count)
            info.add_metric([head.hash], 1)
        yield records
        yield info


class _QueueAge(Collector):
    """How long the longest-waiting queued incident has waited (0 when none): what says
    the workers are not keeping up, or gone."""

    def __init__(self, oldest: Callable[[], datetime | None]) -> None:
        self.oldest = oldest

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "firstline_queue_oldest_queued_seconds",
            "Age of the oldest queued incident, in seconds (0 when none is queued).",
        )
        try:
            oldest = self.oldest()
        except StoreError:
            yield family
            return
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        family.add_metric([], max(age, 0.0))
        yield family


class ServiceMetrics:
    def __init__(
        self,
        queue_depth: Callable[[], dict[str, int]],
        audit_head: Callable[[], Head | None] | None = None,
        *,
        oldest_queued_at: Callable[[], datetime | None] | None = None,
    ) -> None:
        self.audit_head = audit_head
        """The audit chain's head, also logged after each run (workers.py)."""
        self.registry = CollectorRegistry()
        self.alerts_received = Counter(
            "firstline_alerts_received", "Alerts received, by source and what intake did.",
            ["source", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.webhook_requests = Counter(
            "firstline_webhook_requests", "Webhook requests by source and HTTP status.",
            ["source", "status"], registry=self.registry,
        )  # fmt: skip
        self.ingest_seconds = Histogram(
            "firstline_ingest_request_seconds", "Webhook handling time, body to answer.",
            ["source"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.investigations = Counter(
            "firstline_investigations", "Investigation runs finished, by incident status.",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.stage_seconds = Histogram(
            "firstline_stage_seconds", "Time spent per graph stage.",
            ["stage"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.approvals = Counter(
            "firstline_approval_decisions", "Approval decisions taken through the API.",
            ["result"], registry=self.registry,
        )  # fmt: skip
        self.workers_alive = Gauge(
            "firstline_workers_alive",
            "Investigation workers running in this process (0 in a serve --no-workers).",
            registry=self.registry,
        )
        self.registry.register(_QueueDepth(queue_depth))
        if oldest_queued_at is not None:
            self.registry.register(_QueueAge(oldest_queued_at))
        if audit_head is not None:
            self.registry.register(_AuditHead(audit_head))
