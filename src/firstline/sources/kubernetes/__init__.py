"""Kubernetes cluster state as evidence: a typed client over the official `kubernetes`
package (client.py), and the ClusterBackend that turns listings into evidence (adapter.py)."""

from firstline.sources.kubernetes.adapter import KubernetesBackend
from firstline.sources.kubernetes.client import KubernetesClient

__all__ = ["KubernetesBackend", "KubernetesClient"]
