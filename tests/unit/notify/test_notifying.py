"""The graph's side: local notifiers send at once, the outbox only records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from firstline.delivery.setup import build_delivery
from firstline.graph.notifying import notify_acting, notify_all
from firstline.graph.report import outcome_notification
from firstline.notify.base import Notification
from firstline.notify.settings import VendorSettings
from firstline.policy.schema import Mode
from firstline.scenarios.bundled import bundled_dir
from firstline.store.outbox import Outbox
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings


class Inbox:
    name = "inbox"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        self.sent.append(notification)


async def test_outbox_records_while_local_notifiers_send(settings: Settings) -> None:
    vendors = VendorSettings.model_validate(
        {"pagerduty": {"routing_key": "0123456789abcdef0123456789abcdef"},
         "webhook": {"url": "http://127.0.0.1:9/hook"}}
    )  # fmt: skip
    delivery = build_delivery(vendors, settings.store.incidents_db, lambda: datetime.now(UTC))
    scenario = bundled_dir() / "oom-kill-loop-checkout"
    async with open_runtime(settings, scenario=scenario, mode=Mode.APPROVE) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=scenario)
        inbox = Inbox()
        ctx = replace(rt.runner.context, notifiers=[inbox, delivery.outbox_notifier])
        notes = await notify_all(ctx, outcome_notification(outcome.state, "escalation"))
        acting = await notify_acting(outcome.state, ctx)

    assert notes == [
        ("notified via inbox", "escalation"),
        ("queued notification for pagerduty, webhook", "escalation"),
    ]
    assert acting == [("queued notification for pagerduty, webhook", "acting:1")]
    assert [n.kind for n in inbox.sent] == ["escalation"], "the terminal does not get 'acting'"
    rows = Outbox(Path(settings.store.incidents_db)).rows(outcome.state.incident_id)
    assert sorted((r.notifier, r.event_key) for r in rows) == [
        ("pagerduty", "acting:1"), ("pagerduty", "escalation"),
        ("webhook", "acting:1"), ("webhook", "escalation"),
    ]  # fmt: skip


async def test_acting_without_an_outbox_sends_nothing(settings: Settings) -> None:
    scenario = bundled_dir() / "oom-kill-loop-checkout"
    async with open_runtime(settings, scenario=scenario, mode=Mode.APPROVE) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=scenario)
        inbox = Inbox()
        quiet = replace(rt.runner.context, notifiers=[inbox])
        assert await notify_acting(outcome.state, quiet) == []
    assert inbox.sent == []
