"""Every Kubernetes action type, end to end through the official client against kmock's
emulator (a stand-in API server; see emulator.py): success with the state read back,
a dry-run that changes nothing, a preflight refusal, and reconcile after a crash.

kmock runs no controllers, so the tests seed what controllers would have written
(ReplicaSets with revisions, pods with owners) and play cert-manager's part themselves.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from firstline.actions.base import Reconciliation
from firstline.actions.kubernetes.executor import KubernetesExecutor
from tests.integration.actions.kubernetes.cases import CASES, KEY, Case
from tests.integration.actions.kubernetes.conftest import Cluster, MakeExecutor

pytestmark = pytest.mark.integration
by_case = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


class Crash(BaseException):
    """The process dying right after the API write (BaseException: nothing catches it)."""


def crash_after_write(executor: KubernetesExecutor) -> None:
    for name in ("patch", "delete_pod"):
        real = getattr(executor.api, name)

        async def write_then_die(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            result = await _real(*args, **kwargs)
            if not kwargs.get("dry_run"):
                raise Crash
            return result

        setattr(executor.api, name, write_then_die)


@by_case
async def test_success_is_read_back(
    case: Case, cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*case.seed())
    executor = make_executor()

    preflight = await executor.preflight(case.action)
    assert (preflight.ok, preflight.problems, preflight.no_change) == (True, [], False)
    controller = asyncio.create_task(case.controller(cluster)) if case.controller else None
    outcome = await executor.execute(case.action, KEY)
    if controller is not None:
        await controller

    assert outcome.ok, outcome.detail
    case.check(cluster, outcome)
    assert (await make_executor().reconcile(case.action, KEY)).state is Reconciliation.APPLIED


@by_case
async def test_dry_run_shows_the_diff_and_changes_nothing(
    case: Case, cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*case.seed())
    before = cluster.snapshot()

    text = await make_executor().dry_run(case.action)

    assert "API server's dry-run (dryRun=All" in text, text
    for line in case.diff_shows:
        assert line in text.splitlines(), text
    assert "WARNING" not in text
    assert cluster.snapshot() == before
    dry_writes = [w for w in cluster.writes()]
    assert dry_writes, "the dry-run should have reached the API server"


@by_case
async def test_dry_run_computed_client_side_when_server_dry_run_is_off(
    case: Case, cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*case.seed())
    before = cluster.snapshot()

    text = await make_executor(server_dry_run=False).dry_run(case.action)

    assert "computed client-side (server_dry_run is off)" in text
    for line in case.diff_shows:
        assert line in text.splitlines(), text
    assert cluster.snapshot() == before
    assert cluster.writes() == []


@by_case
async def test_preflight_refuses_and_execute_writes_nothing(
    case: Case, cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*(case.refusal_seed or case.seed)())
    before = cluster.snapshot()
    executor = make_executor()

    preflight = await executor.preflight(case.refusal)
    outcome = await executor.execute(case.refusal, KEY)

    if case.refusal_reason == "no change":
        assert (preflight.ok, preflight.no_change) == (True, True)
        assert outcome.ok and "nothing written" in outcome.detail
    else:
        assert not preflight.ok
        assert any(case.refusal_reason in p for p in preflight.problems), preflight.problems
        assert not outcome.ok and case.refusal_reason in outcome.detail
    assert cluster.snapshot() == before
    assert cluster.writes() == []


@by_case
async def test_preflight_refuses_a_missing_object(
    case: Case, cluster: Cluster, make_executor: MakeExecutor
) -> None:
    missing = case.action.model_copy(
        update={"target": case.action.target.model_copy(update={"name": "ghost"})}
    )
    preflight = await make_executor().preflight(missing)
    assert not preflight.ok
    assert preflight.problems == [f"{missing.target} does not exist"]


@by_case
async def test_reconcile_after_a_crash_between_write_and_finish(
    case: Case, cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*case.seed())
    before = cluster.snapshot()
    dying = make_executor()
    crash_after_write(dying)

    with pytest.raises(Crash):
        await dying.execute(case.action, KEY)

    assert cluster.snapshot() != before  # the write landed
    result = await make_executor().reconcile(case.action, KEY)  # a new process looks
    assert result.state is Reconciliation.APPLIED, result.detail


@by_case
async def test_reconcile_of_an_action_never_run_says_not_applied(
    case: Case, cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*case.seed())

    result = await make_executor().reconcile(case.action, KEY)

    assert result.state is Reconciliation.NOT_APPLIED, result.detail
    assert cluster.writes() == []
