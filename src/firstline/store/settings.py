"""Where the store keeps incidents, audit and checkpoints (SQLite files in `data_dir`, the
embedded default, or one PostgreSQL database shared by every replica: `url`), and how long
it keeps them."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Field(
        default=Path(".firstline"), description="Incidents, audit and checkpoints live here."
    )
    url: SecretStr | None = Field(
        default=None,
        description=(
            "A PostgreSQL URL (postgresql://user:password@host:5432/db). When set, every"
            " store and the checkpoints live there, shared by any number of replicas;"
            " data_dir then holds nothing. Unset: SQLite in data_dir."
        ),
    )
    pool_size: int = Field(
        default=10, ge=1, le=200, description="PostgreSQL connections per process and pool."
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "How long a worker's claim on an investigation or a notification lasts without"
            " renewal; a replica that dies leaves its work to the others after this long."
        ),
    )

    @field_validator("url")
    @classmethod
    def _postgres_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("store.url must be a postgresql:// URL (SQLite needs no URL)")
        return value

    compact_interval_seconds: float | None = Field(
        default=3600,
        gt=0,
        description=(
            "How often each worker process compacts finished runs' checkpoints and applies"
            " retention_days (store/retention.py); None: only `firstline store compact`."
        ),
    )

    @property
    def postgres_url(self) -> str | None:
        return self.url.get_secret_value() if self.url is not None else None

    retention_days: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Delete an incident that is over (resolved, dismissed, self-resolved, closed) this"
            " many days after it last changed, with its timeline, alerts, queue row, approvals,"
            " sent notifications, action ledger and checkpoints; the audit trail is kept."
            " None (the default) keeps incidents forever (docs/storage.md)."
        ),
    )
    checkpoint_grace_seconds: float = Field(
        default=300,
        ge=0,
        description=(
            "A finished run's checkpoints are deleted this long after its incident last"
            " changed (its final state stays in the incident's snapshot)."
        ),
    )

    @property
    def incidents_db(self) -> Path:
        return self.data_dir / "incidents.sqlite"

    @property
    def checkpoints_db(self) -> Path:
        return self.data_dir / "checkpoints.sqlite"
