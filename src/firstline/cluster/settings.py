"""The cluster connection: a plain pydantic model, cheap to import."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from firstline.errors import PermanentError


class ClusterConnection(BaseModel):
    """How to reach the API server: the pod's service account or a kubeconfig. The evidence
    source's and the executor's settings both extend it, so each may use its own identity."""

    model_config = ConfigDict(extra="forbid")

    in_cluster: bool = Field(default=False, description="Use the pod's service account.")
    kubeconfig: Path | None = Field(default=None, description="Default: $KUBECONFIG or ~/.kube.")
    context: str | None = Field(default=None, description="Kubeconfig context to use.")
    timeout_seconds: float = Field(default=10.0, gt=0, description="One API request.")


class ClusterConfigError(PermanentError):
    """No usable cluster configuration (no kubeconfig, unknown context, not in a pod).
    Retrying does not help; the settings must change."""
