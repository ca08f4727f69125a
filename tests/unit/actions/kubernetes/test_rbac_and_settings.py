"""RBAC manifests from the enabled actions, target checks and the settings' validation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from firstline.actions.catalog import make_action
from firstline.actions.kubernetes.certificates import read_tls_secret
from firstline.actions.kubernetes.guard import target_problems
from firstline.actions.kubernetes.rbac import rbac_manifests
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from firstline.domain.action import ActionType, Target


def test_namespaced_mode_writes_roles_per_namespace_and_a_cluster_role_only_for_nodes() -> None:
    manifests = rbac_manifests(["scale", "cordon_node"], ["shop", "payments"])
    kinds = [(m["kind"], m["metadata"].get("namespace")) for m in manifests]
    assert kinds == [
        ("Role", "payments"),
        ("RoleBinding", "payments"),
        ("Role", "shop"),
        ("RoleBinding", "shop"),
        ("ClusterRole", None),
        ("ClusterRoleBinding", None),
    ]
    assert manifests[-2]["rules"] == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}
    ]
    assert {r["resources"][0] for r in manifests[0]["rules"]} == {"deployments", "statefulsets"}


def test_without_cluster_scoped_actions_no_cluster_role_is_written() -> None:
    manifests = rbac_manifests(["restart"], ["shop"])
    assert [m["kind"] for m in manifests] == ["Role", "RoleBinding"]
    assert manifests[1]["subjects"] == [
        {"kind": "ServiceAccount", "name": "firstline", "namespace": "firstline"}
    ]


def test_settings_refuse_foreign_actions_and_bad_quantities() -> None:
    with pytest.raises(ValidationError, match="not Kubernetes actions: clear_cache"):
        KubernetesActionSettings(actions=("restart", "clear_cache"))
    with pytest.raises(ValidationError, match="lots"):
        KubernetesActionSettings(memory_ceiling="lots")
    with pytest.raises(ValidationError):
        KubernetesActionSettings(rbac_check="sometimes")


def test_a_node_target_ignores_an_alert_namespace_but_not_its_parameters() -> None:
    settings = KubernetesActionSettings(namespaces=("shop",))
    node = Target(kind="node", name="node-a", namespace="monitoring")
    ok = make_action(ActionType.CORDON_NODE, node, rationale="t")
    assert target_problems(ok, settings) == []
    bad = make_action(ActionType.CORDON_NODE, node, rationale="t", parameters={"node": "node-b"})
    assert target_problems(bad, settings) == [
        "parameter 'node' is refused: an action acts only on its target "
        "(node/monitoring/node-a), never on an object named in its parameters"
    ]


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "the TLS Secret does not exist"),
        ({"data": {}}, "the TLS Secret has no tls.crt"),
        ({"data": {"tls.crt": "bm90IGEgY2VydA=="}}, "tls.crt is not a PEM certificate"),
        ({"data": {"tls.crt": "%%%"}}, "tls.crt is not a PEM certificate"),
    ],
)
def test_unreadable_tls_secrets_say_why(secret: dict[str, object] | None, reason: str) -> None:
    found = read_tls_secret(secret)
    assert isinstance(found, str) and found.startswith(reason)


def _secret_rules(manifests: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        rule
        for m in manifests
        if m["kind"] in {"Role", "ClusterRole"}
        for rule in m["rules"]  # type: ignore[attr-defined]
        if "secrets" in rule["resources"]
    ]


def test_certificate_renewal_reads_only_the_secrets_named_and_none_when_none_is() -> None:
    assert _secret_rules(rbac_manifests(["rotate_certificate"])) == []
    assert _secret_rules(rbac_manifests(["rotate_certificate"], ["shop"])) == []
    named = rbac_manifests(["rotate_certificate"], certificate_secrets=["web-tls", "api-tls"])
    assert _secret_rules(named) == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["api-tls", "web-tls"],
            "verbs": ["get"],
        }
    ]
    # Naming Secrets grants nothing to actions that read none.
    assert _secret_rules(rbac_manifests(["restart"], certificate_secrets=["web-tls"])) == []


@pytest.mark.parametrize("file", ["clusterrole.yaml", "namespaced-example.yaml"])
def test_no_shipped_rule_grants_secrets_without_resource_names(file: str) -> None:
    path = Path(__file__).parents[4] / "deploy" / "rbac" / file
    manifests = list(yaml.safe_load_all(path.read_text()))
    assert all("resourceNames" in rule for rule in _secret_rules(manifests))
    assert all(
        rule.get("resources") != ["*"] and rule.get("verbs") != ["*"]
        for m in manifests
        if m["kind"] in {"Role", "ClusterRole"}
        for rule in m["rules"]
    )
