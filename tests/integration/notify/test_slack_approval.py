"""Approving from Slack: the message firstline posts carries approve/reject buttons; a
click comes back as a signed request. A bad signature or a stale timestamp is refused
(the HTTP route answers 401) and the run stays paused; a valid click resumes the same
checkpointed run through submit_decision.

Slack is the local stand-in (vendors.py) over real HTTP; the click is built the way Slack
documents `block_actions` payloads, from the buttons firstline actually sent, and signed
with Slack's v0 scheme. The run is real: the OOM scenario bundle in approve mode."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from firstline.delivery.setup import Delivery, build_delivery
from firstline.domain.incident import IncidentStatus
from firstline.graph.approvals import submit_decision
from firstline.graph.runner import IncidentRunner
from firstline.notify.slack_interactions import (
    SlackRequestRejected,
    read_slack_approval,
    slack_signature,
)
from firstline.policy.schema import Mode
from firstline.scenarios.loader import load_bundle
from firstline.store.action_log import ActionLog
from firstline.store.incidents import IncidentStore
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings
from tests.conftest import OOM
from tests.integration.notify.conftest import vendor_settings
from tests.integration.notify.vendors import VendorServer

SECRET = "slack-signing-secret-for-tests"


@asynccontextmanager
async def runner_with_outbox(
    settings: Settings, delivery: Delivery, **kwargs: Any
) -> AsyncIterator[IncidentRunner]:
    """The runtime wiring builds, plus the outbox notifier (the lead's wiring will add it)."""
    async with open_runtime(settings, **kwargs) as rt:
        context = rt.runner.context
        rt.runner.context = replace(
            context, notifiers=[*context.notifiers, delivery.outbox_notifier]
        )
        yield rt.runner


def _click(sent_blocks: list[dict[str, Any]], verb: str) -> bytes:
    """The form body Slack posts when someone clicks one of firstline's buttons."""
    actions = next(b for b in sent_blocks if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"].startswith(verb))
    payload = {
        "type": "block_actions",
        "user": {"id": "U024BE7LH", "username": "alice", "name": "alice", "team_id": "T0001"},
        "api_app_id": "A0001",
        "team": {"id": "T0001", "domain": "example"},
        "container": {
            "type": "message",
            "message_ts": "1700000000.000001",
            "channel_id": "C0FIRST",
            "is_ephemeral": False,
        },
        "channel": {"id": "C0FIRST", "name": "incidents"},
        "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
        "trigger_id": "1.2.3",
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": actions["block_id"],
                "value": button["value"],
                "type": "button",
                "action_ts": "1700000001.000001",
                "text": button["text"],
                "style": button.get("style"),
            },
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def _headers(body: bytes, *, secret: str = SECRET, age: float = 0.0) -> dict[str, str]:
    timestamp = str(int(time.time() - age))
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(secret, timestamp, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def _paused_incident(settings: Settings, delivery: Delivery) -> str:
    alert = load_bundle(OOM).primary_alert
    async with runner_with_outbox(settings, delivery, scenario=OOM, mode=Mode.APPROVE) as runner:
        outcome = await runner.start(alert, scenario=OOM)
    assert outcome.paused_at == ("request_approval",)
    return outcome.state.incident_id


async def _still_paused(settings: Settings, delivery: Delivery, incident_id: str) -> None:
    store = IncidentStore(settings.store.incidents_db)
    assert store.summary(incident_id).status is IncidentStatus.AWAITING_APPROVAL
    record = store.approval(incident_id)
    assert record is not None and not record.decided
    assert ActionLog(settings.store.incidents_db).entries(incident_id) == []
    async with runner_with_outbox(settings, delivery, incident_id=incident_id) as runner:
        assert await runner.paused_at(incident_id) == ("request_approval",)


@pytest.fixture
def delivery(settings: Settings, vendor: VendorServer) -> Delivery:
    vendors = vendor_settings(vendor.url, slack=True, pagerduty=True)
    return build_delivery(vendors, settings.store.incidents_db, lambda: datetime.now(UTC))


async def test_slack_click_resumes_the_run_only_when_signed_and_fresh(
    settings: Settings, delivery: Delivery, vendor: VendorServer
) -> None:
    incident_id = await _paused_incident(settings, delivery)
    assert await delivery.worker.drain(within_seconds=20)
    (posted,) = [r.json() for r in vendor.state.accepted("slack")]
    dry_run = next(
        b for b in posted["blocks"] if "Approval needed" in b.get("text", {}).get("text", "")
    )
    assert "```" in dry_run["text"]["text"], "the exact dry-run is shown"
    body = _click(posted["blocks"], "firstline_approve")

    with pytest.raises(SlackRequestRejected, match="signature does not match"):
        read_slack_approval(SECRET, _headers(body, secret="not-the-secret"), body)
    with pytest.raises(SlackRequestRejected, match="signature does not match"):
        read_slack_approval(SECRET, _headers(body), body.replace(b"alice", b"mallo"))
    with pytest.raises(SlackRequestRejected, match="tolerance"):
        read_slack_approval(SECRET, _headers(body, age=301), body)
    await _still_paused(settings, delivery, incident_id)

    click = read_slack_approval(SECRET, _headers(body, age=5), body)
    assert (click.incident_id, click.round, click.approved, click.user, click.channel) == (
        incident_id,
        1,
        True,
        "alice",
        "C0FIRST",
    )
    store = IncidentStore(settings.store.incidents_db)
    record = store.approval(incident_id)
    assert record is not None and record.round == click.round, "the button is for this round"
    async with runner_with_outbox(settings, delivery, incident_id=incident_id) as runner:
        result = await submit_decision(
            runner, incident_id, approved=click.approved, by=click.user, channel="slack"
        )
    assert result.outcome.state.status is IncidentStatus.RESOLVED
    decided = store.approval(incident_id)
    assert decided is not None and (decided.decided_by, decided.channel) == ("alice", "slack")
    assert len(ActionLog(settings.store.incidents_db).entries(incident_id)) == 1

    # The Slack message is updated in place (buttons gone) and the outcome goes in its thread.
    assert await delivery.worker.drain(within_seconds=20)
    calls = [(r.path, r.json()) for r in vendor.state.accepted("slack")]
    root_ts = "1700000000.000001"
    update = next(body for path, body in calls if path.endswith("chat.update"))
    assert update["ts"] == root_ts
    assert not any(b["type"] == "actions" for b in update["blocks"])
    replies = [b for p, b in calls if p.endswith("chat.postMessage") and "thread_ts" in b]
    assert [r["thread_ts"] for r in replies] == [root_ts] * len(replies)
    assert "acting" in replies[0]["text"] and "resolved" in replies[-1]["text"]
    actions = [r.json()["event_action"] for r in vendor.state.accepted("pagerduty")]
    assert actions == ["trigger", "acknowledge", "resolve"], "acknowledged when firstline acts"
    assert vendor.state.pd_pages_opened == 1
    assert vendor.state.violations == []


async def test_slack_reject_click_escalates_without_acting(
    settings: Settings, delivery: Delivery, vendor: VendorServer
) -> None:
    incident_id = await _paused_incident(settings, delivery)
    assert await delivery.worker.drain(within_seconds=20)
    (posted,) = [r.json() for r in vendor.state.accepted("slack")]
    body = _click(posted["blocks"], "firstline_reject")
    click = read_slack_approval(SECRET, _headers(body), body)
    assert not click.approved
    async with runner_with_outbox(settings, delivery, incident_id=incident_id) as runner:
        result = await submit_decision(
            runner, incident_id, approved=click.approved, by=click.user, channel="slack"
        )
    assert result.outcome.state.status is IncidentStatus.ESCALATED
    assert ActionLog(settings.store.incidents_db).entries(incident_id) == []
