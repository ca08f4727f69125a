"""Settings of the evidence backends: Prometheus, Loki, Alertmanager, Kubernetes.

Plain pydantic models; each backend is off until configured."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from firstline.cluster.settings import ClusterConnection


class HttpBackendSettings(BaseModel):
    """One HTTP backend. Unset `url` means the backend is disabled."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="Base URL, e.g. http://prometheus:9090.")
    bearer_token: SecretStr | None = Field(default=None, description="Sent as Authorization.")
    username: str | None = Field(default=None, description="Basic auth user.")
    password: SecretStr | None = Field(default=None, description="Basic auth password.")
    tls_verify: bool = Field(default=True, description="Verify the server certificate.")
    ca_file: Path | None = Field(default=None, description="CA bundle for the server.")
    client_cert: Path | None = Field(default=None, description="Client certificate (mTLS).")
    client_key: Path | None = Field(default=None, description="Client key (mTLS).")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Per request.")
    retries: int = Field(
        default=2, ge=0, le=10, description="Extra tries on 5xx and timeouts only."
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers.")

    @property
    def enabled(self) -> bool:
        return bool(self.url)


class PrometheusSettings(HttpBackendSettings):
    max_points: int = Field(
        default=300, ge=10, le=11_000, description="Cap on points per series (sets the step)."
    )
    min_step_seconds: float = Field(default=15.0, gt=0, description="Smallest query step.")


class LokiSettings(HttpBackendSettings):
    limit: int = Field(default=2000, ge=1, le=50_000, description="Lines per query.")
    tenant: str | None = Field(default=None, description="X-Scope-OrgID for multi-tenant Loki.")
    selector_labels: tuple[str, ...] = Field(
        default=("namespace", "pod", "service", "job"),
        description="Alert labels that become LogQL stream matchers, when present.",
    )


class AlertmanagerSettings(HttpBackendSettings):
    related_by: tuple[str, ...] = Field(
        default=("namespace", "service", "cluster"),
        description="Labels whose shared values make another firing alert related.",
    )


class KubernetesSettings(ClusterConnection):
    """The read-only evidence source: the cluster connection plus what to read."""

    enabled: bool = Field(default=False, description="Read cluster state for evidence.")
    history_limit: int = Field(default=10, ge=1, description="ReplicaSets kept per Deployment.")


class SourcesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)
    loki: LokiSettings = Field(default_factory=LokiSettings)
    alertmanager: AlertmanagerSettings = Field(default_factory=AlertmanagerSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    source_timeout_seconds: float = Field(
        default=15.0, gt=0, description="One source's answer, retries included."
    )
    budget_seconds: float = Field(default=30.0, gt=0, description="All of evidence gathering.")
