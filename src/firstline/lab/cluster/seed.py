"""Putting the shop into the lab's cluster as `kubectl apply` would: Deployments and ConfigMaps
created through the official client, or merge-patched when they already exist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import kubernetes.client
from kubernetes.client.exceptions import ApiException

from firstline.lab.topology import NAMESPACE

Obj = dict[str, Any]
_MERGE_PATCH = "application/merge-patch+json"


def lab_deployment(
    name: str,
    image: str,
    *,
    env: dict[str, str] | None = None,
    port: int | None = None,
    memory_limit: str | None = None,
    cpu_limit: str | None = None,
    replicas: int = 1,
    namespace: str = NAMESPACE,
    change_cause: str | None = None,
    config_map_env: dict[str, tuple[str, str]] | None = None,
) -> Obj:
    """A Deployment of one container. `port` becomes both the containerPort (probed for
    readiness, listed for service discovery) and the PORT variable; `config_map_env` maps a
    variable to (ConfigMap, key)."""
    variables: list[Obj] = [{"name": k, "value": v} for k, v in (env or {}).items()]
    if port is not None:
        variables.append({"name": "PORT", "value": str(port)})
    for variable, (config_map, key) in (config_map_env or {}).items():
        ref = {"name": config_map, "key": key}
        variables.append({"name": variable, "valueFrom": {"configMapKeyRef": ref}})
    container: Obj = {"name": name, "image": image, "env": variables}
    if port is not None:
        container["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    limits = {k: v for k, v in (("memory", memory_limit), ("cpu", cpu_limit)) if v is not None}
    if limits:
        container["resources"] = {"limits": limits, "requests": dict(limits)}
    labels = {"app": name}
    metadata: Obj = {"name": name, "namespace": namespace, "labels": labels}
    if change_cause:
        metadata["annotations"] = {"kubernetes.io/change-cause": change_cause}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 30,
            "selector": {"matchLabels": labels},
            # the new pod starts before the old one stops: the shop binds with SO_REUSEPORT
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}},
        },
    }


def config_map(name: str, data: dict[str, str], namespace: str = NAMESPACE) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": dict(data),
    }


def api_client(server: str) -> kubernetes.client.ApiClient:
    configuration = kubernetes.client.Configuration()
    configuration.host = server
    configuration.api_key = {"authorization": "lab"}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    return kubernetes.client.ApiClient(configuration)


def _apply(create: Any, patch: Any, obj: Obj) -> None:
    meta = obj["metadata"]
    try:
        create(meta["namespace"], obj)
    except ApiException as exc:
        if exc.status != 409:
            raise
        patch(meta["name"], meta["namespace"], obj, _content_type=_MERGE_PATCH)


def seed(
    client_or_url: kubernetes.client.ApiClient | str,
    deployments: Sequence[Obj],
    config_maps: Sequence[Obj] = (),
) -> None:
    """Create (or update) the ConfigMaps, then the Deployments, over the API."""
    client = api_client(client_or_url) if isinstance(client_or_url, str) else client_or_url
    try:
        core, apps = kubernetes.client.CoreV1Api(client), kubernetes.client.AppsV1Api(client)
        for obj in config_maps:
            _apply(core.create_namespaced_config_map, core.patch_namespaced_config_map, obj)
        for obj in deployments:
            _apply(apps.create_namespaced_deployment, apps.patch_namespaced_deployment, obj)
    finally:
        if isinstance(client_or_url, str):
            client.close()  # type: ignore[no-untyped-call]
