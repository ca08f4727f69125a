"""Executor over a scenario bundle's world: applies the bundle's declared effects."""

from __future__ import annotations

from firstline.actions.base import ExecutionOutcome, Preflight, ReconcileResult, Reconciliation
from firstline.domain.action import ActionType, RemediationAction
from firstline.scenarios.world import ReplayWorld


class ReplayExecutor:
    name = "replay"

    def __init__(self, world: ReplayWorld) -> None:
        self.world = world
        self.executed: list[str] = []

    def supports(self, action_type: ActionType) -> bool:
        return True

    async def preflight(self, action: RemediationAction) -> Preflight:
        return Preflight(ok=True)

    async def dry_run(self, action: RemediationAction) -> str:
        return f"would {action.describe()} (replay: applies the bundle's effects for this action)"

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        self.executed.append(idempotency_key)
        changed = self.world.apply(action)
        detail = ", ".join(changed) if changed else "no change to the replayed world"
        return ExecutionOutcome(ok=True, detail=f"{action.describe()}: {detail}")

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        # wiring re-applies ledger entries left 'started' when it rebuilds the world, so the
        # world itself shows whether a crashed action reached it
        if idempotency_key in self.executed or action.describe() in self.world.state.applied:
            return ReconcileResult(
                state=Reconciliation.APPLIED, detail="the replayed world shows its effects"
            )
        return ReconcileResult(
            state=Reconciliation.UNKNOWN, detail="replayed world: no trace of it"
        )
