"""Settings of `firstline serve`: webhook authentication, limits, grouping and workers.

The `serve` group of the one Settings object (FIRSTLINE_SERVE__...), composed by
wiring/settings.py.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

VENDORS = ("alertmanager", "grafana", "pagerduty", "datadog", "cloudwatch", "opsgenie", "generic")


class BasicCredential(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1)
    password: SecretStr


class WebhookAuth(BaseModel):
    """Ways a sender may prove itself; any one configured way that passes is enough.

    A vendor with nothing configured (here or in the default) gets 401 for every request,
    unless `serve.allow_unauthenticated` is set."""

    model_config = ConfigDict(extra="forbid")

    bearer_tokens: list[SecretStr] = Field(
        default_factory=list, description="Accepted `Authorization: Bearer` tokens."
    )
    basic: list[BasicCredential] = Field(
        default_factory=list, description="Accepted HTTP basic credentials."
    )
    hmac_secrets: list[SecretStr] = Field(
        default_factory=list,
        description=(
            "Signing secrets: PagerDuty's X-PagerDuty-Signature, Grafana's HMAC header, and"
            " for the other endpoints `X-Firstline-Signature: sha256=<hex HMAC of the body>`."
        ),
    )
    signature_header: str | None = Field(
        default=None,
        description=(
            "Header carrying the HMAC (default X-Grafana-Alerting-Signature for grafana,"
            " X-Firstline-Signature otherwise)."
        ),
    )
    timestamp_header: str | None = Field(
        default=None,
        description="Grafana: the header whose timestamp is signed with the body, if set.",
    )
    sns_topic_arns: list[str] = Field(
        default_factory=list,
        description="cloudwatch: SNS topics accepted; a verified SNS signature authenticates.",
    )

    def configured(self) -> bool:
        return bool(self.bearer_tokens or self.basic or self.hmac_secrets or self.sns_topic_arns)


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Listen address.")
    port: int = Field(default=8787, ge=0, le=65535, description="Listen port (0: any free).")
    auth: WebhookAuth = Field(
        default_factory=WebhookAuth, description="Webhook auth for every vendor by default."
    )
    webhooks: dict[str, WebhookAuth] = Field(
        default_factory=dict, description="Per-vendor auth, replacing the default for it."
    )
    enabled_webhooks: tuple[str, ...] = Field(
        default=VENDORS, description="Vendors with a /webhooks/{vendor} endpoint."
    )
    allow_unauthenticated: bool = Field(
        default=False, description="Accept unauthenticated webhooks (local trials only)."
    )
    api_principals: dict[str, SecretStr] = Field(
        default_factory=dict,
        description=(
            "API tokens bound to a named principal (name -> token): the principal, never a"
            " typed name, approves and is audited; the policy's `approvers` say for what."
        ),
    )
    api_tokens: list[SecretStr] = Field(
        default_factory=list,
        description=(
            "Bearer tokens for /api that name no principal: they may read incidents but not"
            " approve or reject (403). None and no api_principals: the API answers 401."
        ),
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Larger request bodies get 413."
    )
    max_alerts_per_delivery: int = Field(
        default=10_000, ge=1, description="A delivery with more alerts gets 413, nothing stored."
    )
    body_read_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A body not received in full within this gets 408."
    )
    group_by: tuple[str, ...] = Field(
        default=("alertname", "namespace", "service"),
        description="Labels whose values put alerts into one incident (as Alertmanager's group_by).",
    )
    group_window_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A new alert joins its group's open incident if it opened within this.",
    )
    workers: int = Field(default=4, ge=1, le=64, description="Investigations run at once.")
    approval_sweep_seconds: float = Field(
        default=30.0, gt=0, description="How often expired approval requests are escalated."
    )
    store_busy_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Wait for a locked store this long, then answer 429."
    )
    retry_after_seconds: int = Field(
        default=2, ge=1, description="Retry-After of a 429 when the store is saturated."
    )
    durable_fsync: bool = Field(
        default=False,
        description="fsync every commit (power-loss safe); without it a killed process loses nothing.",
    )
    sns_timestamp_tolerance_seconds: float = Field(
        default=3600.0, gt=0, description="SNS messages older than this are refused (replay)."
    )
    grafana_timestamp_tolerance_seconds: float = Field(
        default=300.0, gt=0, description="Signed Grafana timestamps older than this are refused."
    )

    def auth_for(self, vendor: str) -> WebhookAuth:
        return self.webhooks.get(vendor, self.auth)
