"""Executor over a scenario bundle's world: applies the bundle's declared effects."""

from __future__ import annotations

from firstline.actions.base import ExecutionOutcome
from firstline.domain.action import RemediationAction
from firstline.scenarios.world import ReplayWorld


class ReplayExecutor:
    name = "replay"

    def __init__(self, world: ReplayWorld) -> None:
        self.world = world
        self.executed: list[str] = []

    async def dry_run(self, action: RemediationAction) -> str:
        return f"would {action.describe()} (replay: applies the bundle's effects for this action)"

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        self.executed.append(idempotency_key)
        changed = self.world.apply(action)
        detail = ", ".join(changed) if changed else "no change to the replayed world"
        return ExecutionOutcome(ok=True, detail=f"{action.describe()}: {detail}")
