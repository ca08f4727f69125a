"""The lead a phone shows: what fired, the top hypothesis, what is asked, then the console
link; first in the Slack message and in PagerDuty's trigger, for a real scenario's run.

The bound, PHONE_LINES wrapped lines of PHONE_WIDTH characters: a phone's notification
preview shows about 40 characters a line and cuts after 4 to 5 lines (notify/headline.py).
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from firstline.graph.report import approval_notification, outcome_notification
from firstline.notify.base import Notification
from firstline.notify.headline import PHONE_LINES, PHONE_WIDTH, fit, lead
from firstline.notify.pagerduty import PagerDutyNotifier
from firstline.notify.settings import PagerDutySettings, SlackSettings
from firstline.notify.slack import SlackNotifier
from firstline.notify.slack_blocks import SECTION_LIMIT
from firstline.policy.schema import Mode
from firstline.scenarios.bundled import bundled_dir
from firstline.scenarios.format import Expected
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings

CONSOLE = "https://firstline.example.com"
SCENARIO = bundled_dir() / "deploy-regression-search-api"


@dataclass
class Run:
    approval: Notification
    escalation: Notification
    expected: Expected
    alert_name: str


@pytest.fixture
async def run(settings: Settings) -> AsyncIterator[Run]:
    """The scenario run up to its approval request, and the escalation that a rejection
    would send: notifications built from the run's own state."""
    from firstline.domain.incident import ApprovalRequest

    async with open_runtime(settings, scenario=SCENARIO, mode=Mode.APPROVE) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=SCENARIO)
        state = outcome.state
        assert state.decision is not None
        request = ApprovalRequest(
            incident_id=state.incident_id,
            requested_at=state.alert.starts_at,
            expires_at=state.alert.starts_at,
            summary=state.decision.reason,
            actions=[a.describe() for a in state.decision.actions],
            dry_run=["would roll back"],
        )
        yield Run(
            approval=approval_notification(state, request),
            escalation=outcome_notification(
                state.model_copy(update={"conclusion": "escalated: approval rejected by ana"}),
                "escalation",
            ),
            expected=rt.bundle.spec.expected,
            alert_name=rt.bundle.primary_alert.name,
        )


def _phone_lines(text: str) -> int:
    return sum(len(textwrap.wrap(line, PHONE_WIDTH)) or 1 for line in text.splitlines())


def test_slack_leads_with_what_fired_hypothesis_ask_then_the_link(run: Run) -> None:
    notifier = SlackNotifier(SlackSettings(webhook_url="https://hooks.example/x"), CONSOLE)
    message = notifier.message(run.approval)
    header, first, *rest = message["blocks"]
    assert header["type"] == "header"
    fired = header["text"]["text"]
    assert run.alert_name in fired and run.expected.component in fired
    assert run.expected.severity.value.upper() in fired
    hypothesis, ask, link = first["text"]["text"].splitlines()
    assert hypothesis.startswith(f"Likely {run.expected.pattern} (") and "%)" in hypothesis
    assert ask.startswith("*Approve? ") and "rollback" in ask
    assert link == f"<{CONSOLE}/incidents/{run.approval.incident_id}|Open in the firstline console>"
    # the approval and its buttons come right after the lead, the details after them
    kinds = [b["type"] for b in rest]
    assert kinds.index("actions") < kinds.index("section", kinds.index("actions"))
    assert "Approval needed" in rest[0]["text"]["text"]
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in rest if b["type"] == "section")
    # the push notification's text is the lead itself, and fits a phone's preview
    assert message["text"].splitlines()[0] in fired
    assert _phone_lines(message["text"]) <= PHONE_LINES


def test_pagerduty_summary_and_first_details_are_the_lead(run: Run) -> None:
    notifier = PagerDutyNotifier(PagerDutySettings(routing_key="k" * 32), CONSOLE)
    event = notifier.event(run.escalation, "firstline-x")
    summary = event["payload"]["summary"]
    assert summary.startswith(run.expected.severity.value.upper())
    assert run.alert_name in summary and run.expected.pattern in summary
    details = event["payload"]["custom_details"]
    assert list(details)[:4] == ["what fired", "top hypothesis", "ask", "console"]
    assert details["ask"] == "Escalated: approval rejected by ana"
    assert details["console"] == f"{CONSOLE}/incidents/{run.escalation.incident_id}"
    assert event["links"][0]["href"] == details["console"]
    lead_text = "\n".join([details["what fired"], details["top hypothesis"], details["ask"]])
    assert _phone_lines(lead_text) <= PHONE_LINES


def test_no_console_url_no_link(run: Run) -> None:
    blocks = SlackNotifier(SlackSettings(webhook_url="https://hooks.example/x")).message(
        run.approval
    )["blocks"]
    assert "console" not in blocks[1]["text"]["text"] and "<http" not in str(blocks)
    event = PagerDutyNotifier(PagerDutySettings(routing_key="k" * 32)).event(run.escalation, "k")
    assert "links" not in event and "console" not in event["payload"]["custom_details"]


def test_long_text_is_cut_to_its_lines_with_an_ellipsis(run: Run) -> None:
    cause = "the connection pool to the primary database is exhausted by idle transactions " * 5
    assert run.escalation.digest is not None
    hypotheses = [h.model_copy(update={"cause": cause}) for h in run.escalation.digest.hypotheses]
    digest = run.escalation.digest.model_copy(
        update={"hypotheses": hypotheses, "alert": "A" * 120, "conclusion": "escalated: " + cause}
    )
    long = run.escalation.model_copy(update={"digest": digest})
    first = lead(long, CONSOLE)
    assert _phone_lines(first.text) <= PHONE_LINES
    assert first.hypothesis.endswith("…") and first.ask.endswith("…")
    assert first.fired.startswith(run.expected.severity.value.upper())
    assert fit("short enough", 1) == "short enough"
