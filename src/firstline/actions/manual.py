"""manual_only and failover_database: never executed automatically.

This executor claims both types so they are never routed anywhere that could act, refuses
them at preflight and execute, and renders the exact steps a person should carry out.
"""

from __future__ import annotations

from firstline.actions.base import ExecutionOutcome, Preflight, ReconcileResult, Reconciliation
from firstline.domain.action import ActionType, RemediationAction

NEVER_AUTOMATIC = "never executed automatically: a person carries this out"
MANUAL_TYPES = (ActionType.MANUAL_ONLY, ActionType.FAILOVER_DATABASE)


def failover_steps(target: str) -> list[str]:
    """Generic steps; a pattern's own `steps` replace them when it gives any."""
    return [
        f"Confirm the primary of {target} is really unavailable, from more than one place "
        "(not a network split seen only by the monitoring).",
        "Pick the replica with the least replication lag (PostgreSQL: compare "
        "pg_last_wal_replay_lsn() and now() - pg_last_xact_replay_timestamp() on each).",
        "Fence the old primary so it cannot accept writes (stop it, or cut it off from "
        "clients), to avoid a split brain.",
        "Promote the chosen replica with your HA tooling (e.g. `patronictl failover`), or "
        "PostgreSQL's `SELECT pg_promote();` / `pg_ctl promote -D <datadir>`.",
        "Point clients at the new primary (service, DNS or pooler) and confirm writes succeed.",
        "Rebuild the old primary as a replica (e.g. pg_rewind) once it is safe, and record "
        "the failover in the incident.",
    ]


def manual_steps(action: RemediationAction) -> list[str]:
    if action.steps:
        return list(action.steps)
    if action.type is ActionType.FAILOVER_DATABASE:
        return failover_steps(str(action.target))
    return [f"No steps were given; investigate {action.target} using the incident's evidence."]


def render_steps(action: RemediationAction) -> str:
    lines = [f"{action.describe()}: {NEVER_AUTOMATIC}. Steps for a person:"]
    lines += [f"  {n}. {step}" for n, step in enumerate(manual_steps(action), start=1)]
    if action.rationale:
        lines.append(f"  Why: {action.rationale}")
    return "\n".join(lines)


class ManualExecutor:
    name = "manual"

    def supports(self, action_type: ActionType) -> bool:
        return action_type in MANUAL_TYPES

    async def preflight(self, action: RemediationAction) -> Preflight:
        return Preflight(ok=False, problems=[NEVER_AUTOMATIC])

    async def dry_run(self, action: RemediationAction) -> str:
        return render_steps(action)

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        return ExecutionOutcome(
            ok=False,
            detail=f"{NEVER_AUTOMATIC}; nothing was done",
            report={"steps": manual_steps(action)},
        )

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        # firstline never runs these; whether a person did, it cannot see
        return ReconcileResult(
            state=Reconciliation.UNKNOWN,
            detail=f"{NEVER_AUTOMATIC}; whether a person did it, firstline cannot tell",
        )
