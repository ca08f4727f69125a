"""Opsgenie, Slack incoming webhooks, the generic webhook and email, each end to end
through the outbox and the worker. Opsgenie and Slack are local stand-ins that check the
documented schema (vendors.py); email goes to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from firstline.delivery.setup import build_delivery
from firstline.notify.base import DeliveryContext, PermanentDeliveryError, TemporaryDeliveryError
from firstline.notify.email import EmailNotifier
from firstline.notify.settings import EmailSettings, VendorSettings
from firstline.notify.webhook import verify_webhook_signature
from firstline.store.outbox import OutboxStatus
from tests.integration.notify.conftest import make_incidents, notification, vendor_settings
from tests.integration.notify.vendors import VendorServer
from tests.services.process import free_port


def _now() -> datetime:
    return datetime.now(UTC)


async def test_opsgenie_creates_once_then_notes_then_closes(
    tmp_path: Path, vendor: VendorServer
) -> None:
    db = tmp_path / "incidents.sqlite"
    make_incidents(db, "inc-og")
    delivery = build_delivery(vendor_settings(vendor.url, opsgenie=True), db, _now)
    for kind, round_ in (("approval_request", 1), ("escalation", None), ("resolved", None)):
        delivery.outbox_notifier.enqueue(notification("inc-og", kind, round_, severity="high"))
    vendor.fail("opsgenie", 2, status=429, retry_after="0")
    assert await delivery.worker.drain(within_seconds=20)

    accepted = vendor.state.accepted("opsgenie")
    paths = [r.path.split("?")[0] for r in accepted]
    assert paths == [
        "/v2/alerts",
        "/v2/alerts/firstline-inc-og/notes",
        "/v2/alerts/firstline-inc-og/close",
    ]
    create = accepted[0].json()
    assert create["alias"] == "firstline-inc-og" and create["priority"] == "P2"
    assert create["responders"] == [{"type": "team", "name": "sre"}]
    assert create["details"]["link"] == "https://firstline.example.com/incidents/inc-og"
    assert accepted[0].headers["authorization"] == "GenieKey genie-test"
    assert vendor.state.og_alerts == {"firstline-inc-og": "closed"}
    assert vendor.state.violations == []


async def test_slack_incoming_webhook_posts_every_event(
    tmp_path: Path, vendor: VendorServer
) -> None:
    db = tmp_path / "incidents.sqlite"
    make_incidents(db, "inc-wh")
    delivery = build_delivery(vendor_settings(vendor.url, slack_webhook=True), db, _now)
    delivery.outbox_notifier.enqueue(notification("inc-wh", "approval_request", 1))
    delivery.outbox_notifier.enqueue(notification("inc-wh", "resolved"))
    assert await delivery.worker.drain(within_seconds=10)
    posted = [r.json() for r in vendor.state.accepted("slack_webhook")]
    assert len(posted) == 2
    assert any(b["type"] == "actions" for b in posted[0]["blocks"])
    assert not any(b["type"] == "actions" for b in posted[1]["blocks"])
    assert vendor.state.violations == []


async def test_a_huge_report_still_fits_slacks_block_limits(
    tmp_path: Path, vendor: VendorServer
) -> None:
    db = tmp_path / "incidents.sqlite"
    make_incidents(db, "inc-big")
    delivery = build_delivery(vendor_settings(vendor.url, slack=True), db, _now)
    big = notification("inc-big", "escalation")
    assert big.digest is not None
    digest = big.digest.model_copy(
        update={
            "evidence": [f"metric:m{n} " + "x" * 400 for n in range(200)],
            "summary": "s" * 5000,
        }
    )
    delivery.outbox_notifier.enqueue(big.model_copy(update={"digest": digest}))
    assert await delivery.worker.drain(within_seconds=10)
    assert len(vendor.state.accepted("slack")) == 1
    assert vendor.state.violations == []


async def test_generic_webhook_is_signed_and_carries_a_stable_delivery_id(
    tmp_path: Path, vendor: VendorServer
) -> None:
    db = tmp_path / "incidents.sqlite"
    make_incidents(db, "inc-gw")
    delivery = build_delivery(vendor_settings(vendor.url, webhook=True), db, _now)
    delivery.outbox_notifier.enqueue(notification("inc-gw", "escalation"))
    vendor.fail("webhook", 1, status=502)
    assert await delivery.worker.drain(within_seconds=10)

    failed, ok = [r for r in vendor.state.requests if r.route == "webhook"]
    assert failed.status == 502 and ok.status == 200
    assert failed.headers["x-firstline-delivery"] == ok.headers["x-firstline-delivery"]
    assert ok.headers["x-firstline-delivery"] == "inc-gw:escalation"
    assert verify_webhook_signature(
        "whsec-test",
        ok.headers["x-firstline-timestamp"],
        ok.body,
        ok.headers["x-firstline-signature"],
    )
    assert not verify_webhook_signature(
        "wrong", ok.headers["x-firstline-timestamp"], ok.body, ok.headers["x-firstline-signature"]
    )
    document = ok.json()
    assert document["incident_id"] == "inc-gw" and document["kind"] == "escalation"
    assert document["digest"]["hypotheses"][0]["pattern"] == "oom_kill_loop"


class Inbox:
    """aiosmtpd handler: keeps every accepted message; can refuse with a scripted code."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse.pop(0)
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _email_settings(controller: Controller) -> EmailSettings:
    return EmailSettings(
        host="127.0.0.1",
        port=controller.port,
        starttls=False,
        sender="firstline@example.com",
        recipients=["oncall@example.com"],
    )


async def test_email_through_a_real_smtp_server_threads_by_message_id(
    tmp_path: Path, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    db = tmp_path / "incidents.sqlite"
    store = make_incidents(db, "inc-mail")
    vendors = VendorSettings(public_url="https://fl.example.com", email=_email_settings(controller))
    vendors.delivery.initial_backoff_seconds = 0.01
    delivery = build_delivery(vendors, db, _now)
    delivery.outbox_notifier.enqueue(notification("inc-mail", "escalation"))
    delivery.outbox_notifier.enqueue(notification("inc-mail", "resolved"))
    inbox.refuse.append("451 4.3.0 try again later")
    assert await delivery.worker.drain(within_seconds=10)

    first, second = [
        email.message_from_bytes(m.content, policy=email.policy.default) for m in inbox.messages
    ]
    assert inbox.messages[0].rcpt_tos == ["oncall@example.com"]
    assert (
        first["Subject"] == "[firstline CRITICAL] escalation: KubePodCrashLooping (shop/checkout)"
    )
    assert "https://fl.example.com/incidents/inc-mail" in first.get_content()
    assert second["In-Reply-To"] == first["Message-ID"]
    assert any("SMTP 451" in e.detail for e in store.timeline("inc-mail"))
    assert all(r.status is OutboxStatus.DELIVERED for r in delivery.worker.outbox.rows())


async def test_email_errors_are_classified(smtp: tuple[Controller, Inbox]) -> None:
    controller, inbox = smtp
    notifier = EmailNotifier(_email_settings(controller))
    context = DeliveryContext(dedup_key="k", event_id="inc:escalation", attempt=1)
    inbox.refuse.append("554 5.7.1 rejected")
    with pytest.raises(PermanentDeliveryError, match="554"):
        await notifier.deliver(notification("inc", "escalation"), context)
    closed = EmailNotifier(_email_settings(controller).model_copy(update={"port": 1}))
    with pytest.raises(TemporaryDeliveryError, match="SMTP"):
        await closed.deliver(notification("inc", "escalation"), context)
