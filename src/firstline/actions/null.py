"""An executor for when nothing is configured: it refuses, so nothing is ever done by
accident, and verification then escalates honestly."""

from __future__ import annotations

from firstline.actions.base import ExecutionOutcome, Preflight, ReconcileResult, Reconciliation
from firstline.domain.action import ActionType, RemediationAction


class NoExecutor:
    name = "none"

    def supports(self, action_type: ActionType) -> bool:
        return False

    async def preflight(self, action: RemediationAction) -> Preflight:
        return Preflight(ok=False, problems=["no executor is configured for this action"])

    async def dry_run(self, action: RemediationAction) -> str:
        return f"would {action.describe()} (no executor configured: it would not run)"

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        return ExecutionOutcome(ok=False, detail="no executor is configured for this action")

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        return ReconcileResult(state=Reconciliation.NOT_APPLIED, detail="nothing was ever run")
