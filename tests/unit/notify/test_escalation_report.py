"""The escalation a person reads: one screen with what fired, hypotheses with confidence
and evidence, what was ruled out, what was tried with its result, and next steps."""

from __future__ import annotations

from dataclasses import replace

from firstline.graph.report import outcome_notification, render_text
from firstline.notify.base import Notification
from firstline.policy.schema import Mode
from firstline.scenarios.bundled import bundled_dir
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import Settings


class Inbox:
    name = "inbox"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        self.sent.append(notification)


async def test_escalation_after_a_failed_fix_has_everything_on_one_screen(
    settings: Settings,
) -> None:
    scenario = bundled_dir() / "deploy-regression-search-api"
    async with open_runtime(settings, scenario=scenario, mode=Mode.AUTO) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=scenario)
    state = outcome.state
    note = outcome_notification(state, "escalation")
    text = render_text(state)
    assert note.digest is not None
    digest = note.digest
    assert digest.alert == "HighErrorRate" and digest.fired_at == state.alert.starts_at
    assert digest.hypotheses and 0 < digest.hypotheses[0].confidence <= 1
    assert digest.hypotheses[0].evidence, "the top hypothesis carries its evidence"
    assert digest.ruled_out
    assert any("no data (" in line for line in digest.evidence), "empty answers are counted"
    for heading in ("Fired:", "Hypotheses:", "Ruled out:", "Evidence", "Decision:"):
        assert heading in text
    assert note.labels == state.alert.labels
    assert len(text.splitlines()) <= 45, "fits one screen"


async def test_tried_and_next_steps_appear_after_an_escalation(settings: Settings) -> None:
    from firstline.graph.nodes.conclude import escalate_incident
    from firstline.graph.report import tried

    scenario = bundled_dir() / "oom-kill-loop-checkout"
    async with open_runtime(settings, scenario=scenario, mode=Mode.AUTO) as rt:
        assert rt.bundle is not None
        outcome = await rt.runner.start(rt.bundle.primary_alert, scenario=scenario)
        inbox = Inbox()
        ctx = replace(rt.runner.context, notifiers=[inbox])
        await escalate_incident(outcome.state, ctx)
    (sent,) = inbox.sent
    assert sent.digest is not None
    assert sent.digest.tried == tried(outcome.state)
    assert any("succeeded" in line for line in sent.digest.tried)
    assert any("verification #1 passed" in line for line in sent.digest.tried)
    assert "Tried: " in sent.body
