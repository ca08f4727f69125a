"""A policy refusal for every Kubernetes action type, through the graph's execution step
with the real executor (against kmock's emulator): nothing is written to the cluster, no
ledger entry is made, and the refusal names its rule in the result and the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.actions.kubernetes.cases import CASES, Case
from tests.integration.actions.kubernetes.conftest import Cluster, MakeExecutor
from tests.integration.actions.policy_deny import assert_refused_by_rule, run_denied


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_a_denied_action_changes_nothing_and_names_the_rule(
    case: Case, cluster: Cluster, make_executor: MakeExecutor, tmp_path: Path
) -> None:
    cluster.add(*case.seed())
    before = cluster.snapshot()
    result, ctx = await run_denied(tmp_path, make_executor(), case.action)
    assert_refused_by_rule(result, ctx)
    assert cluster.snapshot() == before and cluster.writes() == []
