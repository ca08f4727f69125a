"""Settings of the data-tier and script executors (Redis, PostgreSQL, runbook scripts).

Plain pydantic models, so `firstline.wiring.settings` can gather them without pulling in any
executor behaviour. Every executor is off until enabled; see docs/remediation/data-and-scripts.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from firstline.actions.kubernetes.settings import KubernetesActionSettings

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RedisActionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Carry out clear_cache on Redis.")
    targets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Target name (or namespace/name) -> redis URL, e.g. redis://cache:6379/0. "
        "A target not listed here is refused.",
    )
    scan_count: int = Field(default=500, ge=1, description="COUNT hint of each SCAN call.")
    unlink_batch: int = Field(default=500, ge=1, description="Keys per UNLINK call.")
    max_keys: int = Field(
        default=10_000, ge=1, description="Never delete more keys than this in one action."
    )
    sample_size: int = Field(default=20, ge=0, description="Keys named in dry-runs and reports.")
    allow_flush: bool = Field(
        default=False,
        description="Allow match-everything patterns and `flush: true` (FLUSHDB ASYNC). "
        "FLUSHALL is never sent.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="One Redis command.")


class PostgresActionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Carry out terminate_db_connections.")
    targets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Target name (or namespace/name) -> libpq DSN. A target not listed is refused.",
    )
    min_idle_in_transaction_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Floor for the `idle_in_transaction_seconds` parameter: younger sessions "
        "are never terminated, whatever an action asks.",
    )
    max_terminated: int = Field(
        default=50, ge=1, description="Refuse an action that would end more sessions than this."
    )
    protected_users: tuple[str, ...] = Field(
        default=(), description="Roles whose sessions are never terminated (besides superusers)."
    )
    terminate_wait_ms: int = Field(
        default=5000, ge=0, description="How long pg_terminate_backend waits for each exit."
    )
    connect_timeout_seconds: int = Field(default=10, ge=1)
    statement_timeout_ms: int = Field(default=15_000, ge=100)


class ScriptActionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Run custom_script actions.")
    directory: Path | None = Field(
        default=None, description="The one directory runbook scripts are run from."
    )
    env_allowlist: tuple[str, ...] = Field(
        default=("PATH", "LANG", "LC_ALL", "TZ"),
        description="Environment variables passed through (plus FIRSTLINE_ACTION_KEY).",
    )
    timeout_seconds: float = Field(default=60.0, gt=0, description="Then the group is killed.")
    kill_grace_seconds: float = Field(
        default=2.0, ge=0, description="Between SIGTERM and SIGKILL of the process group."
    )
    max_output_bytes: int = Field(
        default=8192, ge=256, description="Per stream; the middle of longer output is cut."
    )

    @field_validator("env_allowlist")
    @classmethod
    def _plain_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
            # firstline's own settings can hold secrets (tokens, DSNs): never hand them on
            if name.upper().startswith("FIRSTLINE_"):
                raise ValueError(f"{name}: firstline's own variables are never passed to scripts")
        return value

    @model_validator(mode="after")
    def _directory_when_enabled(self) -> ScriptActionSettings:
        if self.enabled and self.directory is None:
            raise ValueError("scripts.directory is required when scripts are enabled")
        return self


class ActionsSettings(BaseModel):
    """Executors that act on real systems; each is off until enabled (docs/remediation/)."""

    model_config = ConfigDict(extra="forbid")

    kubernetes: KubernetesActionSettings = Field(default_factory=KubernetesActionSettings)
    redis: RedisActionSettings = Field(default_factory=RedisActionSettings)
    postgres: PostgresActionSettings = Field(default_factory=PostgresActionSettings)
    scripts: ScriptActionSettings = Field(default_factory=ScriptActionSettings)
