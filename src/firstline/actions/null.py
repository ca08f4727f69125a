"""An executor for when nothing is configured: it refuses, so nothing is ever done by
accident, and verification then escalates honestly."""

from __future__ import annotations

from firstline.actions.base import ExecutionOutcome
from firstline.domain.action import RemediationAction


class NoExecutor:
    name = "none"

    async def dry_run(self, action: RemediationAction) -> str:
        return f"would {action.describe()} (no executor configured: it would not run)"

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        return ExecutionOutcome(ok=False, detail="no executor is configured for this action")
