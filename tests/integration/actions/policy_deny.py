"""Running one action through the graph's execution step under a policy that denies its
type, with a real executor: shared by the per-executor policy-refusal tests."""

from __future__ import annotations

from pathlib import Path

from firstline.actions.base import Executor
from firstline.detection.detectors import get_detector
from firstline.domain.action import ActionResult, ActionStatus, RemediationAction
from firstline.domain.alert import Severity
from firstline.graph.deps import GraphDeps
from firstline.graph.execution import audit_log, execute_once
from firstline.graph.settings import GraphSettings
from firstline.graph.state import IncidentState
from firstline.patterns.registry import PatternRegistry
from firstline.policy.schema import Mode, Policy
from firstline.reasoning.rules import PatternReasoner
from firstline.sources.null import NoEvidenceSource
from firstline.store.incidents import IncidentStore
from tests.unit.builders import alert

INCIDENT = "inc-deny"


async def run_denied(
    tmp_path: Path, executor: Executor, action: RemediationAction
) -> tuple[ActionResult, GraphDeps]:
    store = IncidentStore(tmp_path / "deny.sqlite")
    store.create(INCIDENT, "HighErrorRate", "fp", None)
    registry = PatternRegistry.load()
    policy = Policy.model_validate(
        {"mode": Mode.AUTO, "actions": {"deny": [{"types": [action.type.value]}]}}
    )
    deps = GraphDeps(
        source=NoEvidenceSource(), executor=executor, reasoner=PatternReasoner(registry),
        registry=registry, policy=policy, detector=get_detector("robust_shift"), store=store,
        notifiers=[], settings=GraphSettings(),
    )  # fmt: skip
    state = IncidentState(incident_id=INCIDENT, alert=alert(), severity=Severity.HIGH)
    return await execute_once(state, action, 1, deps), deps


def assert_refused_by_rule(result: ActionResult, deps: GraphDeps) -> None:
    """Refused, naming the deny rule, with no ledger entry and a refusal in the audit."""
    assert result.status is ActionStatus.REFUSED
    assert result.detail.startswith("deny[0]"), result.detail
    assert deps.store.ledger(INCIDENT) == []
    refusal = audit_log(deps).records(INCIDENT)[-1]
    assert refusal.kind == "refusal" and refusal.details["rule"].startswith("deny[0]")
