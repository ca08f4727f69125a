"""Delivery through the outbox to vendor stand-ins over real loopback HTTP.

The vendors are local stand-ins (tests/integration/notify/vendors.py) that check each
request against the vendor's documented schema; PagerDuty and Slack themselves cannot be
reached from here."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from pathlib import Path

from firstline.delivery.metrics import DeliveryCounters
from firstline.delivery.setup import build_delivery
from firstline.store.outbox import OutboxStatus
from tests.integration.notify.conftest import make_incidents, notification, vendor_settings
from tests.integration.notify.vendors import VendorServer


def _now() -> datetime:
    return datetime.now(UTC)


async def test_five_failures_then_recovery_pages_exactly_once(
    tmp_path: Path, vendor: VendorServer
) -> None:
    db = tmp_path / "incidents.sqlite"
    store = make_incidents(db, "inc-1")
    settings = vendor_settings(vendor.url, pagerduty=True)
    counters = DeliveryCounters()
    delivery = build_delivery(settings, db, _now, counters)
    delivery.worker.rng = random.Random(7)
    vendor.fail("pagerduty", 3, status=503)
    vendor.fail("pagerduty", 2, status=500)

    assert delivery.outbox_notifier.enqueue(notification("inc-1", "escalation")) == ["pagerduty"]
    assert await delivery.worker.drain(within_seconds=20)

    tries = [r for r in vendor.state.requests if r.route == "pagerduty"]
    assert [r.status for r in tries] == [503, 503, 503, 500, 500, 202]
    assert vendor.state.pd_pages_opened == 1
    assert vendor.state.violations == []
    assert len({r.json()["dedup_key"] for r in tries}) == 1, "every retry reuses the dedup key"
    # exponential backoff: each wait is at least half its step (equal jitter), step doubles
    gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
    for n, gap in enumerate(gaps, start=1):
        assert gap >= min(0.4, 0.05 * 2 ** (n - 1)) / 2 * 0.9, (n, gaps)
    assert gaps[3] > gaps[0], "later waits are longer"

    events = [e.event for e in store.timeline("inc-1") if e.stage == "notify"]
    assert events == [
        *(f"notification via pagerduty failed (attempt {n} of 8)" for n in range(1, 6)),
        "notified via pagerduty",
    ]
    assert "HTTP 503" in store.timeline("inc-1")[0].detail
    (row,) = delivery.worker.outbox.rows("inc-1")
    assert row.status is OutboxStatus.DELIVERED and row.attempts == 6
    assert counters.count("pagerduty", "retry") == 5
    assert counters.count("pagerduty", "delivered") == 1


async def test_429_retry_after_is_honoured(tmp_path: Path, vendor: VendorServer) -> None:
    db = tmp_path / "incidents.sqlite"
    store = make_incidents(db, "inc-2")
    delivery = build_delivery(vendor_settings(vendor.url, slack=True), db, _now)
    vendor.fail("slack", 1, status=429, retry_after="1")

    delivery.outbox_notifier.enqueue(notification("inc-2", "escalation"))
    assert await delivery.worker.drain(within_seconds=20)

    tries = [r for r in vendor.state.requests if r.route == "slack"]
    assert [r.status for r in tries] == [429, 200]
    assert tries[1].at - tries[0].at >= 0.95, "waited the full Retry-After, not the 0.05s backoff"
    failed = next(e for e in store.timeline("inc-2") if "failed" in e.event)
    assert "Retry-After" in failed.detail and "1.0s" in failed.detail
    assert vendor.state.violations == []


async def test_a_rejected_payload_is_not_retried_and_shows_in_the_timeline(
    tmp_path: Path, vendor: VendorServer
) -> None:
    db = tmp_path / "incidents.sqlite"
    store = make_incidents(db, "inc-3")
    counters = DeliveryCounters()
    delivery = build_delivery(vendor_settings(vendor.url, slack=True), db, _now, counters)
    vendor.fail("slack", 1, status=200, slack_error="channel_not_found")

    delivery.outbox_notifier.enqueue(notification("inc-3", "escalation"))
    assert await delivery.worker.drain(within_seconds=10)

    assert len([r for r in vendor.state.requests if r.route == "slack"]) == 1
    (row,) = delivery.worker.outbox.rows("inc-3")
    assert row.status is OutboxStatus.FAILED and "channel_not_found" in row.last_error
    entry = next(e for e in store.timeline("inc-3") if e.stage == "notify")
    assert entry.event == "notification via slack failed for good"
    assert counters.count("slack", "failed") == 1


async def test_pagerduty_lifecycle_trigger_acknowledge_resolve(
    tmp_path: Path, vendor: VendorServer
) -> None:
    db = tmp_path / "incidents.sqlite"
    make_incidents(db, "inc-4")
    delivery = build_delivery(vendor_settings(vendor.url, pagerduty=True), db, _now)
    for kind, round_ in (("approval_request", 1), ("acting", 1), ("resolved", None)):
        delivery.outbox_notifier.enqueue(notification("inc-4", kind, round_))
    # the trigger fails at first: the acknowledge and resolve must wait for it
    vendor.fail("pagerduty", 2, status=502)
    assert await delivery.worker.drain(within_seconds=20)

    accepted = [r.json() for r in vendor.state.accepted("pagerduty")]
    assert [e["event_action"] for e in accepted] == ["trigger", "acknowledge", "resolve"]
    trigger = accepted[0]
    assert trigger["payload"]["severity"] == "critical"
    details = trigger["payload"]["custom_details"]
    assert details["top hypotheses"] == ["86% oom_kill_loop: memory limit too low"]
    assert details["approval needed for"] == ["kubectl rollout restart deployment/checkout -n shop"]
    assert trigger["links"][0]["href"] == "https://firstline.example.com/incidents/inc-4"
    assert vendor.state.pd_pages_opened == 1
    assert vendor.state.pd_alerts == {"firstline-inc-4": "resolved"}
    assert vendor.state.violations == []


async def test_requeueing_the_same_event_sends_nothing_twice(
    tmp_path: Path, vendor: VendorServer
) -> None:
    """A node that runs again after a resume queues its notification again: ignored."""
    db = tmp_path / "incidents.sqlite"
    make_incidents(db, "inc-5")
    delivery = build_delivery(vendor_settings(vendor.url, pagerduty=True, webhook=True), db, _now)
    note = notification("inc-5", "escalation")
    delivery.outbox_notifier.enqueue(note)
    delivery.outbox_notifier.enqueue(note)
    assert await delivery.worker.drain(within_seconds=10)
    delivery.outbox_notifier.enqueue(note)
    assert await delivery.worker.drain(within_seconds=10)
    assert len(vendor.state.accepted("pagerduty")) == 1
    assert len(vendor.state.accepted("webhook")) == 1
