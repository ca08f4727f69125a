"""Running one action through the graph's execution step under a policy that denies its
type, with a real executor: shared by the per-executor policy-refusal tests."""

from __future__ import annotations

from pathlib import Path

from firstline.actions.base import Executor
from firstline.domain.action import ActionResult, ActionStatus, RemediationAction
from firstline.domain.alert import Severity
from firstline.graph.context import GraphContext
from firstline.graph.execution import execute_once
from firstline.graph.state import IncidentState
from firstline.policy.schema import Mode, Policy
from tests.unit.builders import alert, graph_context

INCIDENT = "inc-deny"


async def run_denied(
    tmp_path: Path, executor: Executor, action: RemediationAction
) -> tuple[ActionResult, GraphContext]:
    policy = Policy.model_validate(
        {"mode": Mode.AUTO, "actions": {"deny": [{"types": [action.type.value]}]}}
    )
    ctx = graph_context(tmp_path / "deny.sqlite", executor, policy=policy)
    ctx.store.create(INCIDENT, "HighErrorRate", "fp", None)
    state = IncidentState(incident_id=INCIDENT, alert=alert(), severity=Severity.HIGH)
    return await execute_once(state, action, 1, ctx), ctx


def assert_refused_by_rule(result: ActionResult, ctx: GraphContext) -> None:
    """Refused, naming the deny rule, with no ledger entry and a refusal in the audit."""
    assert result.status is ActionStatus.REFUSED
    assert result.detail.startswith("deny[0]"), result.detail
    assert ctx.ledger.entries(INCIDENT) == []
    refusal = ctx.audit.records(INCIDENT)[-1]
    assert refusal.kind == "refusal" and refusal.details["rule"].startswith("deny[0]")
