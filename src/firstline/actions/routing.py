"""One Executor over several: each action goes to the first executor that supports its type.

Wiring builds one of these from the enabled executors (Kubernetes, Redis, PostgreSQL,
scripts, manual), so the graph keeps talking to a single Executor. An action no executor
supports is refused at preflight, and never executed.
"""

from __future__ import annotations

from collections.abc import Sequence

from firstline.actions.base import (
    ExecutionOutcome,
    Executor,
    Preflight,
    ReconcileResult,
    Reconciliation,
)
from firstline.domain.action import ActionType, RemediationAction


class RoutingExecutor:
    name = "routing"

    def __init__(self, executors: Sequence[Executor]) -> None:
        self.executors = tuple(executors)

    def route(self, action_type: ActionType) -> Executor | None:
        """Earlier executors win, so a specific one can be placed before a general one."""
        return next((e for e in self.executors if e.supports(action_type)), None)

    def supports(self, action_type: ActionType) -> bool:
        return self.route(action_type) is not None

    def _unsupported(self, action: RemediationAction) -> str:
        names = ", ".join(e.name for e in self.executors) or "none"
        return f"no configured executor handles {action.type.value} (configured: {names})"

    async def preflight(self, action: RemediationAction) -> Preflight:
        executor = self.route(action.type)
        if executor is None:
            return Preflight(ok=False, problems=[self._unsupported(action)])
        return await executor.preflight(action)

    async def dry_run(self, action: RemediationAction) -> str:
        executor = self.route(action.type)
        if executor is None:
            return f"would not {action.describe()}: {self._unsupported(action)}"
        return await executor.dry_run(action)

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        executor = self.route(action.type)
        if executor is None:
            return ExecutionOutcome(ok=False, detail=self._unsupported(action))
        return await executor.execute(action, idempotency_key)

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        executor = self.route(action.type)
        if executor is None:
            # nothing could have run it here; but configuration may have changed since the
            # crash, so a person decides
            return ReconcileResult(state=Reconciliation.UNKNOWN, detail=self._unsupported(action))
        return await executor.reconcile(action, idempotency_key)
