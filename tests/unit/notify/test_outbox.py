"""The outbox table on a real SQLite file and a real PostgreSQL: chains, leases, receipts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firstline.store.database import Database
from firstline.store.outbox import Outbox, OutboxStatus

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _add(outbox: Outbox, incident: str, notifier: str, event: str) -> bool:
    return outbox.enqueue(incident_id=incident, notifier=notifier, event_key=event, kind=event,
                          dedup_key=f"k-{incident}", payload="{}", now=T0)  # fmt: skip


def test_one_row_per_incident_notifier_and_event(database: Database) -> None:
    outbox = Outbox(database)
    assert _add(outbox, "a", "pagerduty", "escalation")
    assert not _add(outbox, "a", "pagerduty", "escalation")
    assert _add(outbox, "a", "slack", "escalation")
    assert outbox.counts() == {"pending": 2, "delivered": 0, "failed": 0}


def test_only_the_head_of_each_chain_is_due_and_leases_exclude(database: Database) -> None:
    outbox = Outbox(database)
    _add(outbox, "a", "pagerduty", "trigger")
    _add(outbox, "a", "pagerduty", "resolve")
    _add(outbox, "b", "pagerduty", "trigger")
    first = outbox.claim_due(now=T0, owner="w1", lease_seconds=60, limit=10)
    assert [(r.incident_id, r.event_key) for r in first] == [("a", "trigger"), ("b", "trigger")]
    assert outbox.claim_due(now=T0, owner="w2", lease_seconds=60, limit=10) == []

    outbox.mark_delivered(first[0].id, owner="w1", now=T0, receipt={"ts": "1"})
    outbox.mark_retry(
        first[1].id, owner="w1", error="503", next_attempt_at=T0 + timedelta(seconds=5)
    )
    (nxt,) = outbox.claim_due(now=T0, owner="w2", lease_seconds=60, limit=10)
    assert nxt.event_key == "resolve" and nxt.incident_id == "a"
    assert outbox.receipts("a", "pagerduty") == [{"ts": "1"}]
    assert outbox.next_due_at() == T0  # the leased row stays pending
    later = outbox.claim_due(now=T0 + timedelta(seconds=6), owner="w3", lease_seconds=60, limit=10)
    assert [r.incident_id for r in later] == ["b"] and later[0].attempts == 1


def test_an_expired_lease_lets_another_worker_retry(database: Database) -> None:
    outbox = Outbox(database)
    _add(outbox, "a", "slack", "escalation")
    (row,) = outbox.claim_due(now=T0, owner="dead", lease_seconds=30, limit=10)
    assert (
        outbox.claim_due(now=T0 + timedelta(seconds=29), owner="w", lease_seconds=30, limit=10)
        == []
    )
    (again,) = outbox.claim_due(
        now=T0 + timedelta(seconds=31), owner="w", lease_seconds=30, limit=10
    )
    assert again.id == row.id
    outbox.mark_delivered(row.id, owner="dead", now=T0, receipt={})  # the dead owner's late word
    assert outbox.rows()[0].status is OutboxStatus.PENDING, "only the lease holder may finish"
    outbox.mark_failed(row.id, owner="w", error="gone")
    assert outbox.rows()[0].status is OutboxStatus.FAILED


def test_delivery_metrics_in_prometheus_terms(database: Database) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from firstline.delivery.metrics import DeliveryCounters
    from firstline.delivery.prometheus import register_delivery_metrics

    outbox = Outbox(database)
    _add(outbox, "a", "slack", "escalation")
    counters = DeliveryCounters()
    registry = CollectorRegistry()
    register_delivery_metrics(counters, outbox, registry)
    counters.record("slack", "retry")
    counters.record("slack", "retry")
    text = generate_latest(registry).decode()
    assert 'firstline_notification_attempts_total{notifier="slack",outcome="retry"} 2.0' in text
    assert 'firstline_outbox_rows{status="pending"} 1.0' in text
