"""Small builders for unit tests: an alert, an action, an analysis."""

from __future__ import annotations

from datetime import UTC, datetime

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Risk, Target
from firstline.domain.alert import Alert, fingerprint_labels
from firstline.domain.hypothesis import Analysis, RootCauseHypothesis

T0 = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)


def alert(
    name: str = "HighErrorRate", annotations: dict[str, str] | None = None, **labels: str
) -> Alert:
    merged = {"alertname": name, "namespace": "shop", "service": "cart", **labels}
    return Alert(
        source="test",
        name=name,
        labels=merged,
        annotations=annotations or {},
        starts_at=T0,
        fingerprint=fingerprint_labels(merged),
    )


def action(
    kind: ActionType = ActionType.RESTART,
    risk: Risk | None = None,
    target: Target | None = None,
) -> RemediationAction:
    return make_action(
        kind,
        target or Target(kind="deployment", name="cart", namespace="shop"),
        rationale="test",
        risk=risk,
    )


def analysis(
    confidence: float = 0.9,
    actions: list[RemediationAction] | None = None,
    pattern: str = "oom_kill_loop",
) -> Analysis:
    return Analysis(
        reasoner="test",
        hypotheses=[
            RootCauseHypothesis(
                pattern=pattern,
                cause="test cause",
                confidence=confidence,
                suggested_actions=[action()] if actions is None else actions,
            )
        ],
    )
