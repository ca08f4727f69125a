"""Checks shared by the plain manifests and the rendered Helm chart: the same objects must
pass the same tests, so both are read into one list of Kubernetes objects first."""

from __future__ import annotations

from typing import Any

import kubernetes_validate

from tests.unit.deploy.conftest import KUBERNETES_VERSION

Obj = dict[str, Any]

SERVE_ARGS = ["serve", "--host", "0.0.0.0", "--port", "8080", "--no-workers"]
WORKER_ARGS = ["worker", "--host", "0.0.0.0", "--port", "8081"]
IMAGE_USER = 10001  # the Dockerfile's USER


def validate_strict(obj: Obj) -> None:
    """Against the pinned Kubernetes version's schemas; unknown fields fail."""
    used = kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    assert KUBERNETES_VERSION.startswith(used), used


def find(objects: list[Obj], kind: str, component: str | None = None) -> list[Obj]:
    return [
        o
        for o in objects
        if o["kind"] == kind
        and (
            component is None
            or o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component
        )
    ]


def deployment(objects: list[Obj], component: str) -> Obj:
    found = find(objects, "Deployment", component)
    assert len(found) == 1, f"one {component} Deployment expected, found {len(found)}"
    return found[0]


def container(deploy: Obj) -> Obj:
    containers = deploy["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def probe_target(c: Obj, probe: str) -> tuple[str, int]:
    """(path, container port number) a probe GETs; named ports resolved."""
    get = c[probe]["httpGet"]
    port = get["port"]
    if isinstance(port, str):
        port = next(p["containerPort"] for p in c["ports"] if p["name"] == port)
    return get["path"], port


def check_workload(deploy: Obj, args: list[str], port: int) -> None:
    c = container(deploy)
    assert c["args"] == args
    assert "command" not in c  # the image's ENTRYPOINT is `firstline`
    assert probe_target(c, "livenessProbe") == ("/healthz", port)
    assert probe_target(c, "startupProbe") == ("/healthz", port)
    assert probe_target(c, "readinessProbe") == ("/readyz", port)
    for kind in ("requests", "limits"):
        assert set(c["resources"][kind]) == {"cpu", "memory"}, kind


def check_hardened(deploy: Obj) -> None:
    pod = deploy["spec"]["template"]["spec"]
    c = container(deploy)
    ctx = pod["securityContext"]
    assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] == IMAGE_USER
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    own = c["securityContext"]
    assert own["readOnlyRootFilesystem"] is True
    assert own["allowPrivilegeEscalation"] is False
    assert own["capabilities"]["drop"] == ["ALL"] and not own["capabilities"].get("add")
    volumes = {v["name"]: v for v in pod["volumes"]}
    tmp = next(m for m in c["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in volumes[tmp["name"]]
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    spread = pod.get("topologySpreadConstraints", [])
    anti = pod.get("affinity", {}).get("podAntiAffinity")
    assert spread or anti, "replicas are not spread"
    for rule in spread:
        assert rule["labelSelector"]["matchLabels"].items() <= labels.items()
    assert deploy["spec"]["selector"]["matchLabels"].items() <= labels.items()


def secret_refs(deploy: Obj) -> dict[str, tuple[str, str]]:
    """FIRSTLINE_* variable -> (Secret, key) for every variable taken from a Secret."""
    return {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in container(deploy).get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def check_rbac(objects: list[Obj]) -> None:
    """Least privilege: Secrets only by name, and no wildcard anywhere."""
    for role in [o for o in objects if o["kind"] in {"Role", "ClusterRole"}]:
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"], rule
            if "secrets" in rule["resources"]:
                assert rule.get("resourceNames"), f"{role['metadata']['name']}: every Secret"


def check_all(objects: list[Obj]) -> None:
    """Everything the plain manifests and the chart must both satisfy."""
    for obj in objects:
        validate_strict(obj)
    assert not find(objects, "Secret"), "Secrets are referenced, never shipped"
    serve, worker = deployment(objects, "serve"), deployment(objects, "worker")
    check_workload(serve, SERVE_ARGS, 8080)
    check_workload(worker, WORKER_ARGS, 8081)
    for deploy in (serve, worker):
        check_hardened(deploy)
        assert "FIRSTLINE_STORE__URL" in secret_refs(deploy)
        for e in container(deploy).get("env", []):
            secretish = any(w in e["name"] for w in ("TOKEN", "SECRET", "KEY", "URL", "PRINCIPALS"))
            assert not (secretish and "value" in e), f"{e['name']} is a literal, not a Secret"
    # The identity: workers use the ServiceAccount the RBAC binds; serve mounts no token.
    accounts = {
        (o["metadata"]["name"], o["metadata"]["namespace"]) for o in find(objects, "ServiceAccount")
    }
    bound = {
        (s["name"], s["namespace"])
        for o in objects
        if o["kind"] in {"ClusterRoleBinding", "RoleBinding"}
        for s in o["subjects"]
        if s["kind"] == "ServiceAccount"
    }
    assert bound and bound <= accounts
    for deploy in (serve, worker):
        pod = deploy["spec"]["template"]["spec"]
        assert (pod["serviceAccountName"], deploy["metadata"]["namespace"]) in accounts
    # serve (--no-workers) never acts: a decision through its API is handed to a worker
    # through the queue (tests/integration/scale/test_split_approvals.py), so it needs no
    # credentials for the cluster
    assert serve["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    # Services and PodDisruptionBudgets select the pods they mean, by ports that exist.
    for component, deploy in (("serve", serve), ("worker", worker)):
        labels = deploy["spec"]["template"]["metadata"]["labels"]
        ports = {p["name"] for p in container(deploy)["ports"]}
        services = find(objects, "Service", component)
        assert services
        for service in services:
            assert service["spec"]["selector"].items() <= labels.items()
            assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
        budgets = find(objects, "PodDisruptionBudget", component)
        assert len(budgets) == 1
        assert budgets[0]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    check_rbac(objects)
    config = {o["metadata"]["name"] for o in find(objects, "ConfigMap")}
    for deploy in (serve, worker):
        for volume in deploy["spec"]["template"]["spec"]["volumes"]:
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config
