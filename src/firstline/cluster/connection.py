"""Loading a cluster configuration for the official Kubernetes client, shared by the
read-only evidence source and the executor (which must not import each other)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import kubernetes.client
import kubernetes.config
from kubernetes.config.config_exception import ConfigException

from firstline.cluster.settings import ClusterConfigError, ClusterConnection

MAX_REASON = 300


def one_line(text: str, limit: int = MAX_REASON) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def kubeconfig_path(settings: ClusterConnection) -> str:
    """Settings first, then $KUBECONFIG (read now, not when the kubernetes package was
    imported), then the usual file. A $KUBECONFIG list (a:b) is merged by the loader."""
    if settings.kubeconfig is not None:
        return str(settings.kubeconfig.expanduser())
    return os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())


def load_configuration(settings: ClusterConnection) -> Any:
    """A `kubernetes.client.Configuration`: the pod's service account or a kubeconfig.
    Blocking (reads files, may run an exec credential plugin). Failures raise ClusterConfigError with
    a one-line reason. Transport retries are off: one request per call, so a write is never
    re-sent silently and the timeout is the whole budget of a read."""
    configuration = kubernetes.client.Configuration()
    try:
        if settings.in_cluster:
            kubernetes.config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            path = kubeconfig_path(settings)
            if not any(Path(p).expanduser().is_file() for p in path.split(os.pathsep) if p):
                raise ClusterConfigError(f"kubeconfig not found: {path}")
            kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=path,
                context=settings.context,
                client_configuration=configuration,
                persist_config=False,  # never write refreshed tokens into the user's file
            )
    except (ConfigException, OSError, ValueError, KeyError) as exc:
        where = "in-cluster config" if settings.in_cluster else "kubeconfig"
        raise ClusterConfigError(one_line(f"{where}: {exc}")) from exc
    configuration.retries = False
    return configuration
