"""The RBAC manifests grant exactly what the executor uses: every request each action makes
against kmock's emulator (a stand-in API server; see emulator.py) during preflight, dry-run,
execute and reconcile is recorded and compared with the generated rules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from firstline.actions.kubernetes.rbac import rbac_manifests, required_permissions
from firstline.actions.kubernetes.settings import KUBERNETES_ACTIONS
from tests.integration.actions.kubernetes.cases import CASES, KEY, Case
from tests.integration.actions.kubernetes.conftest import Cluster, MakeExecutor

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).parents[4] / "deploy" / "rbac"


def granted_by(manifests: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for m in manifests
        if m["kind"] in {"Role", "ClusterRole"}
        for rule in m["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_each_action_uses_exactly_what_its_manifest_grants(
    case: Case, cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*case.seed())
    executor = make_executor()
    assert (await executor.preflight(case.action)).ok
    await executor.dry_run(case.action)
    controller = asyncio.create_task(case.controller(cluster)) if case.controller else None
    assert (await executor.execute(case.action, KEY)).ok
    if controller is not None:
        await controller
    await executor.reconcile(case.action, KEY)

    used = {
        (group, resource, verb)
        for verb, group, resource, _ in cluster.emulator.seen
        if resource != "selfsubjectaccessreviews"
    }
    kind = case.action.target.kind
    secrets = ("web-tls",)  # what make_executor names in certificate_secrets
    needed = {
        (p.group, p.resource, p.verb)
        for p in required_permissions(case.action.type, kind, certificate_secrets=secrets)
    }
    assert used == needed
    assert used <= granted_by(rbac_manifests([case.action.type], certificate_secrets=secrets))


def test_manifests_grant_nothing_beyond_the_enabled_actions() -> None:
    restart_only = granted_by(rbac_manifests(["restart"]))
    assert restart_only == {
        ("apps", plural, verb)
        for plural in ("deployments", "statefulsets", "daemonsets")
        for verb in ("get", "patch")
    }
    everything = granted_by(rbac_manifests(KUBERNETES_ACTIONS))
    assert {verb for _, _, verb in everything} == {"get", "patch", "list", "delete"}
    assert ("", "secrets", "list") not in everything and ("", "pods", "patch") not in everything
    assert ("", "secrets", "get") not in everything  # no Secret is named: no Secret access


@pytest.mark.parametrize(
    ("file", "namespaces", "secrets"),
    [
        ("clusterrole.yaml", (), ()),
        ("namespaced-example.yaml", ("shop", "payments"), ("shop-tls", "payments-tls")),
    ],
)
def test_the_shipped_manifests_match_the_generator(
    file: str, namespaces: tuple[str, ...], secrets: tuple[str, ...]
) -> None:
    shipped = list(yaml.safe_load_all((DEPLOY / file).read_text()))
    assert shipped == rbac_manifests(KUBERNETES_ACTIONS, namespaces, certificate_secrets=secrets)
