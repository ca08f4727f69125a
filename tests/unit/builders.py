"""Small builders for unit tests: an alert, an action, an analysis, a graph context."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firstline.actions.base import Executor
from firstline.actions.catalog import make_action
from firstline.detection.detectors import get_detector
from firstline.domain.action import ActionType, RemediationAction, Risk, Target
from firstline.domain.alert import Alert, fingerprint_labels
from firstline.domain.hypothesis import Analysis, RootCauseHypothesis
from firstline.graph.context import GraphContext
from firstline.graph.settings import GraphSettings
from firstline.patterns.registry import PatternRegistry
from firstline.policy.schema import Mode, Policy
from firstline.reasoning.rules import PatternReasoner
from firstline.sources.null import NoEvidenceSource
from firstline.store.action_log import ActionLog
from firstline.store.audit import AuditLog
from firstline.store.incidents import IncidentStore

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


def graph_context(db: Path, executor: Executor, **changes: Any) -> GraphContext:
    """A run's context on one SQLite file, as wiring builds it: the real incident store,
    audit log and action ledger; no evidence, the rules reasoner, auto mode, no notifiers.
    `changes` replace any field."""
    registry = PatternRegistry.load()
    context = GraphContext(
        source=NoEvidenceSource(),
        executor=executor,
        reasoner=PatternReasoner(registry),
        registry=registry,
        policy=Policy(mode=Mode.AUTO),
        detector=get_detector("robust_shift"),
        store=IncidentStore(db),
        audit=AuditLog(db),
        ledger=ActionLog(db),
        notifiers=[],
        settings=GraphSettings(),
    )
    return replace(context, **changes)
