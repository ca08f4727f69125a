"""What each notifier would send, checked without a network."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from firstline.notify.base import DeliveryContext, Notification
from firstline.notify.content import ApprovalAsk, DigestHypothesis, IncidentDigest
from firstline.notify.opsgenie import OpsgenieNotifier
from firstline.notify.pagerduty import PagerDutyNotifier
from firstline.notify.settings import OpsgenieSettings, PagerDutySettings
from firstline.notify.slack_blocks import incident_blocks

KEY = "0123456789abcdef0123456789abcdef"


def _note(kind: str, severity: str = "high", round_: int | None = None) -> Notification:
    digest = IncidentDigest(
        alert="HighErrorRate", where="catalog/search-api", status="awaiting_approval",
        hypotheses=[DigestHypothesis(pattern="deploy_regression", cause="revision 42",
                                     confidence=0.88, evidence=["+ errors rose after rollout"])],
        approval=ApprovalAsk(round=round_ or 1, expires_at=datetime(2030, 1, 1, tzinfo=UTC),
                             actions=["rollback"], dry_run=["would roll back to revision 41"]),
    )  # fmt: skip
    return Notification(incident_id="inc-7", kind=kind, severity=severity, title="t" * 2000,
                        body="b", digest=digest, round=round_)  # fmt: skip


def test_pagerduty_maps_severity_and_summarises_with_the_lead() -> None:
    notifier = PagerDutyNotifier(PagerDutySettings(routing_key=KEY), "https://fl")
    event = notifier.event(_note("escalation", "high"), "firstline-inc-7")
    assert event["event_action"] == "trigger"
    assert event["payload"]["severity"] == "error"
    summary = event["payload"]["summary"]
    assert summary.startswith("HIGH · HighErrorRate") and "deploy_regression (88%)" in summary
    bare = _note("escalation").model_copy(update={"digest": None})
    assert len(notifier.event(bare, "k")["payload"]["summary"]) <= 1024
    assert event["links"] == [{"href": "https://fl/incidents/inc-7", "text": "firstline inc-7"}]
    low = notifier.event(_note("escalation", "low"), "k")
    assert low["payload"]["severity"] == "info"


def test_pagerduty_acknowledge_and_resolve_carry_only_the_key() -> None:
    notifier = PagerDutyNotifier(PagerDutySettings(routing_key=KEY))
    for kind, action in (("acting", "acknowledge"), ("resolved", "resolve")):
        assert notifier.event(_note(kind), "k") == {
            "routing_key": KEY, "event_action": action, "dedup_key": "k",
        }  # fmt: skip
    assert not notifier.handles("dismissed")


def test_opsgenie_creates_first_then_adds_notes_and_closes() -> None:
    notifier = OpsgenieNotifier(OpsgenieSettings(api_key="g"))
    fresh = DeliveryContext(dedup_key="firstline-inc-7", event_id="e", attempt=1)
    path, body = notifier.request(_note("escalation", "critical"), fresh)
    assert path == "/v2/alerts" and body["priority"] == "P1" and len(body["message"]) == 130
    assert all(isinstance(v, str) for v in body["details"].values())
    created = fresh.model_copy(update={"receipts": [{"action": "create"}]})
    assert notifier.request(_note("escalation"), created)[0].endswith("/notes?identifierType=alias")
    assert notifier.request(_note("resolved"), created)[0] == (
        "/v2/alerts/firstline-inc-7/close?identifierType=alias"
    )


def test_slack_buttons_name_the_incident_and_round() -> None:
    blocks = incident_blocks(_note("approval_request", round_=3), None, with_buttons=True)
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == ["firstline_approve:inc-7:3", "firstline_reject:inc-7:3"]
    assert json.loads(actions["elements"][0]["value"])["round"] == 3
    assert len(blocks[0]["text"]["text"]) <= 150
    text = json.dumps(blocks)
    assert "would roll back to revision 41" in text and "88%" in text
    without = incident_blocks(_note("approval_request", round_=3), None, with_buttons=False)
    assert not any(b["type"] == "actions" for b in without)
