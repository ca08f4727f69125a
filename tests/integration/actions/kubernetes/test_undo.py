"""Each recorded undo, run through the same executor, restores the state it recorded.
Against kmock's emulator (a stand-in API server; see emulator.py)."""

from __future__ import annotations

import pytest

from tests.integration.actions.kubernetes.cases import CASES, KEY, Case
from tests.integration.actions.kubernetes.conftest import Cluster, MakeExecutor

pytestmark = pytest.mark.integration
UNDOABLE = [
    c
    for c in CASES
    if c.id in {"scale", "raise-memory-limit", "pause", "resume", "cordon", "rollback"}
]


@pytest.mark.parametrize("case", UNDOABLE, ids=[c.id for c in UNDOABLE])
async def test_undo_restores_the_recorded_state(
    case: Case, cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*case.seed())
    kind, name, namespace = (
        ("Node", "node-a", None)
        if case.action.target.kind == "node"
        else ("Deployment", "checkout", "shop")
    )
    original = cluster.get(kind, name, namespace)
    assert original is not None
    executor = make_executor()

    outcome = await executor.execute(case.action, KEY)
    assert outcome.ok and outcome.undo is not None
    assert (await executor.preflight(outcome.undo)).ok
    undone = await executor.execute(outcome.undo, KEY + "-undo")
    assert undone.ok, undone.detail

    restored = cluster.get(kind, name, namespace)
    assert restored is not None
    now, then = restored.get("spec") or {}, original.get("spec") or {}
    assert now.get("replicas") == then.get("replicas")
    assert bool(now.get("paused")) == bool(then.get("paused"))
    assert bool(now.get("unschedulable")) == bool(then.get("unschedulable"))
    assert now.get("template") == then.get("template")
