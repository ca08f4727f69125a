"""One settings object, grouped, every field defaulted and documented.

Sources, in order of precedence: keyword arguments, environment (FIRSTLINE_*, nested with
`__`, e.g. FIRSTLINE_GRAPH__MAX_VERIFY_ATTEMPTS=3), the settings file (YAML; path from
FIRSTLINE_CONFIG or `--config`), defaults. Nothing reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# Each integration keeps its own settings models next to its code; they are plain pydantic
# models, so importing them here pulls in no behaviour (see the import-linter ignores).
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from firstline.actions.settings import (
    PostgresActionSettings,
    RedisActionSettings,
    ScriptActionSettings,
)
from firstline.notify.settings import VendorSettings
from firstline.reasoning.llm.settings import ReasoningSettings
from firstline.serve_settings import ServeSettings
from firstline.yamlfile import load_yaml_mapping


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Field(
        default=Path(".firstline"), description="Incidents, audit and checkpoints live here."
    )

    @property
    def incidents_db(self) -> Path:
        return self.data_dir / "incidents.sqlite"

    @property
    def checkpoints_db(self) -> Path:
        return self.data_dir / "checkpoints.sqlite"


class GraphSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_verify_attempts: int = Field(
        default=2, ge=1, le=10, description="Remediate-verify rounds before escalating."
    )
    verify_wait_seconds: float = Field(
        default=0.0, ge=0, description="Pause between remediation and verification."
    )
    evidence_window_minutes: float = Field(
        default=60, gt=0, description="How far back evidence is gathered."
    )


class DetectionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    detector: str = Field(default="robust_shift", description="Detector for metric evidence.")


class NotifySettings(VendorSettings):
    """The terminal and file notifiers, plus every vendor's (VendorSettings, read by the
    outbox and the delivery worker as they are)."""

    model_config = ConfigDict(extra="forbid")

    console: bool = Field(default=False, description="Print notifications to the terminal.")
    jsonl_path: Path | None = Field(
        default=None, description="Append notifications as JSON lines to this file."
    )


class ActionsSettings(BaseModel):
    """Executors that act on real systems; each is off until enabled (docs/remediation/)."""

    model_config = ConfigDict(extra="forbid")

    kubernetes: KubernetesActionSettings = Field(default_factory=KubernetesActionSettings)
    redis: RedisActionSettings = Field(default_factory=RedisActionSettings)
    postgres: PostgresActionSettings = Field(default_factory=PostgresActionSettings)
    scripts: ScriptActionSettings = Field(default_factory=ScriptActionSettings)


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


class KubernetesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Read cluster state for evidence.")
    in_cluster: bool = Field(default=False, description="Use the pod's service account.")
    kubeconfig: Path | None = Field(default=None, description="Default: $KUBECONFIG or ~/.kube.")
    context: str | None = Field(default=None, description="Kubeconfig context to use.")
    timeout_seconds: float = Field(default=10.0, gt=0)
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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FIRSTLINE_", env_nested_delimiter="__", extra="forbid"
    )

    policy_file: Path | None = Field(
        default=None, description="Policy YAML; defaults apply when unset (mode: approve)."
    )
    patterns_dir: Path | None = Field(
        default=None, description="Extra pattern modules (*.py, each defining PATTERN)."
    )
    store: StoreSettings = Field(default_factory=StoreSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    actions: ActionsSettings = Field(default_factory=ActionsSettings)
    reasoning: ReasoningSettings = Field(default_factory=ReasoningSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings


class SettingsError(ValueError):
    pass


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from an optional YAML file; environment and overrides win over it."""
    from_file: dict[str, Any] = {}
    if config_file is not None:
        from_file = load_yaml_mapping(config_file, SettingsError, "settings file")
    try:
        env_only = Settings()
        merged = _deep_merge(from_file, env_only.model_dump(exclude_unset=True))
        return Settings.model_validate(_deep_merge(merged, overrides))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        source = f"settings file {config_file}" if config_file else "settings"
        raise SettingsError(f"{source}: {where}: {err['msg']}") from exc


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
