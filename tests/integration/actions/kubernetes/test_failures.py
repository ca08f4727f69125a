"""When the cluster cannot be reached or configured, every method says so and nothing
claims success. The emulator (kmock; see emulator.py) holds the objects; the executor is
pointed past it."""

from __future__ import annotations

from pathlib import Path

import pytest

from firstline.actions.base import Reconciliation
from firstline.domain.action import ActionType
from tests.integration.actions.kubernetes.cases import KEY, act
from tests.integration.actions.kubernetes.conftest import Cluster, MakeExecutor
from tests.integration.kubernetes.objects import deployment

pytestmark = pytest.mark.integration
SCALE = act(ActionType.SCALE, "deployment", "checkout", replicas=4)


async def test_an_unreachable_api_server(cluster: Cluster, make_executor: MakeExecutor) -> None:
    cluster.add(deployment("checkout"))
    executor = make_executor(context="other")  # its cluster is 127.0.0.1:9, where nothing listens

    preflight = await executor.preflight(SCALE)
    outcome = await executor.execute(SCALE, KEY)
    reconciled = await executor.reconcile(SCALE, KEY)
    text = await executor.dry_run(SCALE)

    (problem,) = preflight.problems
    assert problem.startswith("GET /apis/apps/v1/namespaces/shop/deployments/checkout: ")
    assert not outcome.ok and outcome.detail.startswith("could not read deployment/shop/checkout")
    assert reconciled.state is Reconciliation.UNKNOWN
    assert text.startswith("would not scale deployment/shop/checkout")
    assert cluster.emulator.seen == []


async def test_a_missing_kubeconfig(
    cluster: Cluster, make_executor: MakeExecutor, tmp_path: Path
) -> None:
    executor = make_executor(kubeconfig=tmp_path / "absent")
    preflight = await executor.preflight(SCALE)
    assert preflight.problems == [f"kubeconfig not found: {tmp_path / 'absent'}"]
