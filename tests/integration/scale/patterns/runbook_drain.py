"""A user pattern for the replica test, loaded through patterns_dir (the public plug-in
API only): an alert labelled `runbook=drain-queue` is explained by a backlog that the
`drain-queue` runbook script clears, proposed at low risk so that `mode: auto` runs it.

It judges by the alert itself (`reads = ("alert",)`), so it is verified without any
evidence backend: the test needs investigations that act, not a realistic diagnosis.
"""

from __future__ import annotations

from firstline.api import (
    ActionType,
    Pattern,
    PatternContext,
    RemediationAction,
    Risk,
    Scorecard,
    Target,
    make_action,
)


class RunbookDrain(Pattern):
    id = "test_runbook_drain"
    title = "Queue backlog the drain-queue runbook clears"
    reads = ("alert",)

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        labelled = ctx.alert.labels.get("runbook") == "drain-queue"
        card.add(labelled, 6.0, "the alert names the drain-queue runbook", "alert")
        service = ctx.alert.labels.get("service", "unknown")
        return card, f"{service}'s queue is backed up", [service]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        target = Target(
            kind="deployment",
            name=ctx.alert.labels.get("service", "unknown"),
            namespace=ctx.alert.labels.get("namespace"),
        )
        return [
            make_action(
                ActionType.CUSTOM_SCRIPT,
                target,
                rationale="the runbook drains the backlog",
                risk=Risk.LOW,
                parameters={"script": "drain-queue"},
            )
        ]


PATTERN = RunbookDrain()
