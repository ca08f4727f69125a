"""deploy/helm/firstline, rendered by Helm's own template engine (helm-python-sdk binds
Helm's Go SDK; no helm binary is needed). With its defaults the chart must render the same
objects as deploy/kubernetes (apart from Helm's labels), and pass the same checks."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from firstline.actions.kubernetes.rbac import rbac_manifests
from firstline.actions.kubernetes.settings import KUBERNETES_ACTIONS
from firstline.wiring.settings import load_settings
from tests.unit.deploy import manifests
from tests.unit.deploy.conftest import CHART
from tests.unit.deploy.test_kubernetes import listed_objects

Obj = dict[str, Any]
HELM_ONLY_LABELS = {
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
}


def render(values: dict[str, Any] | None = None, name: str = "firstline") -> list[Obj]:
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(values or {}, name=name, namespace="firstline")
    objects: list[Obj] = []
    for path, text in sorted(rendered.items()):
        if path.endswith(".yaml"):
            objects += [o for o in yaml.safe_load_all(text) if o]
    return objects


def _plain(obj: Any) -> Any:
    """Helm's own labels and annotations out; the ConfigMap's files compared as YAML."""
    if isinstance(obj, dict):
        out = {k: _plain(v) for k, v in obj.items() if k not in HELM_ONLY_LABELS}
        annotations = out.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop("checksum/config", None)
            if not annotations:
                del out["annotations"]
        return out
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def _comparable(objects: list[Obj]) -> dict[tuple[str, str], Obj]:
    out = {}
    for obj in objects:
        obj = _plain(copy.deepcopy(obj))
        if obj["kind"] == "ConfigMap":
            obj["data"] = {k: yaml.safe_load(v) for k, v in obj["data"].items()}
        out[(obj["kind"], obj["metadata"]["name"])] = obj
    return out


def test_the_default_chart_renders_the_plain_manifests() -> None:
    plain = [o for o in listed_objects() if o["kind"] != "Namespace"]  # helm --create-namespace
    assert _comparable(render()) == _comparable(plain)


def test_the_rendered_chart_passes_every_check() -> None:
    manifests.check_all(render())


def test_values_reach_the_objects(tmp_path: Path) -> None:
    objects = render(
        {
            "image": {"repository": "registry.example.com/ops/firstline", "tag": "9.9.9"},
            "serve": {"replicas": 3, "resources": {"limits": {"cpu": "3", "memory": "2Gi"}}},
            "worker": {"replicas": 5},
            "store": {"urlSecret": {"name": "pg", "key": "dsn"}},
            "settings": {"serve": {"workers": 8}},
            "rbac": {"certificateSecrets": ["web-tls", "api-tls", "web-tls"]},
        },
        name="ops",
    )
    manifests.check_all(objects)
    serve = manifests.deployment(objects, "serve")
    worker = manifests.deployment(objects, "worker")
    assert (serve["spec"]["replicas"], worker["spec"]["replicas"]) == (3, 5)
    c = manifests.container(serve)
    assert c["image"] == "registry.example.com/ops/firstline:9.9.9"
    assert c["resources"]["limits"] == {"cpu": "3", "memory": "2Gi"}
    assert c["resources"]["requests"] == {"cpu": "250m", "memory": "256Mi"}  # merged
    assert manifests.secret_refs(worker)["FIRSTLINE_STORE__URL"] == ("pg", "dsn")
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    assert config["metadata"]["name"] == "ops-config"
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(config["data"]["settings.yaml"])
    loaded = load_settings(settings_file)
    assert loaded.serve.workers == 8 and loaded.serve.group_window_seconds == 3600
    role = next(o for o in objects if o["kind"] == "ClusterRole")
    generated = rbac_manifests(KUBERNETES_ACTIONS, certificate_secrets=["api-tls", "web-tls"])
    assert role["rules"] == generated[0]["rules"]
    binding = next(o for o in objects if o["kind"] == "ClusterRoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "ops", "namespace": "firstline"}
    ]


def test_the_default_rbac_is_the_generated_one_and_can_be_left_out() -> None:
    role = next(o for o in render() if o["kind"] == "ClusterRole")
    assert role["rules"] == rbac_manifests(KUBERNETES_ACTIONS)[0]["rules"]
    kinds = {o["kind"] for o in render({"rbac": {"create": False}})}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}


def test_helm_lint_finds_no_error() -> None:
    result = helm.lint(str(CHART))
    assert result["errors"] == []
    assert not [m for m in result["messages"] if m["severity"] >= 3], result["messages"]


def test_the_chart_metadata() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["type"] == "application"
    assert chart["name"] == "firstline"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    project = (CHART.parents[2] / "pyproject.toml").read_text()
    assert f'version = "{chart["appVersion"]}"' in project  # the image tag it defaults to


def test_every_value_a_template_reads_exists() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for template in (CHART / "templates").iterdir():
        for ref in re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", template.read_text()):
            node: Any = values
            for part in ref.strip(".").split("."):
                assert isinstance(node, dict) and part in node, f"{template.name}: .Values{ref}"
                node = node[part]


@pytest.mark.parametrize("broken", ["{{ .Values.nope.deeper }}", '{{ include "missing" . }}'])
def test_a_broken_template_fails_to_render(tmp_path: Path, broken: str) -> None:
    copy_dir = tmp_path / "firstline"
    import shutil

    shutil.copytree(CHART, copy_dir)
    (copy_dir / "templates" / "broken.yaml").write_text(f"kind: X\nx: {broken}\n")
    with pytest.raises(helm.HelmError), helm.Chart.load(copy_dir) as chart:
        chart.render({}, name="firstline", namespace="firstline")
