"""Settings for the remote notifiers, routing and delivery. Each notifier is off until its
credentials or URL are set. NotifySettings adds the terminal and file notifiers."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PagerDutySettings(_Group):
    routing_key: SecretStr | None = Field(
        default=None, description="Events API v2 integration key; unset disables PagerDuty."
    )
    url: str = Field(
        default="https://events.pagerduty.com/v2/enqueue", description="Events API endpoint."
    )
    source: str = Field(default="firstline", description="payload.source when no better one.")
    severity_map: dict[str, str] = Field(
        default={"critical": "critical", "high": "error", "medium": "warning", "low": "info"},
        description="firstline severity -> PagerDuty severity (critical|error|warning|info).",
    )
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def enabled(self) -> bool:
        return self.routing_key is not None


class OpsgenieSettings(_Group):
    api_key: SecretStr | None = Field(
        default=None, description="Opsgenie API integration key; unset disables Opsgenie."
    )
    url: str = Field(
        default="https://api.opsgenie.com", description="https://api.eu.opsgenie.com in the EU."
    )
    priority_map: dict[str, str] = Field(
        default={"critical": "P1", "high": "P2", "medium": "P3", "low": "P4"},
        description="firstline severity -> Opsgenie priority (P1..P5).",
    )
    responders: list[str] = Field(default_factory=list, description="Team names to notify.")
    tags: list[str] = Field(default_factory=lambda: ["firstline"])
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def enabled(self) -> bool:
        return self.api_key is not None


class SlackSettings(_Group):
    bot_token: SecretStr | None = Field(
        default=None, description="xoxb- token: one message per incident, updated in place."
    )
    channel: str | None = Field(default=None, description="Channel id for the bot token.")
    webhook_url: SecretStr | None = Field(
        default=None, description="Incoming webhook instead of a bot token (no updates)."
    )
    signing_secret: SecretStr | None = Field(
        default=None, description="Verifies approve/reject button clicks from Slack."
    )
    api_url: str = Field(default="https://slack.com/api", description="Web API base URL.")
    timeout_seconds: float = Field(default=10.0, gt=0)
    principals: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Slack user id -> firstline principal (the name API tokens and the policy's"
            " approvers use), so one person is one principal on every channel. A user not"
            " listed decides as slack:<user id>."
        ),
    )

    @property
    def enabled(self) -> bool:
        return (self.bot_token is not None and self.channel is not None) or (
            self.webhook_url is not None
        )


class WebhookSettings(_Group):
    url: str | None = Field(default=None, description="POST target; unset disables it.")
    secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for the X-Firstline-Signature header."
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers.")
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def enabled(self) -> bool:
        return bool(self.url)


class EmailSettings(_Group):
    host: str | None = Field(default=None, description="SMTP server; unset disables email.")
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(default=True, description="Upgrade with STARTTLS (port 587).")
    ssl: bool = Field(default=False, description="Implicit TLS (port 465).")
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(default="firstline@localhost", description="From address.")
    recipients: list[str] = Field(default_factory=list, description="To addresses.")
    timeout_seconds: float = Field(default=15.0, gt=0)

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.recipients)


class RoutingRule(_Group):
    """Matches when every condition set here holds; unset conditions match anything."""

    notifiers: list[str] = Field(description="Notifier names to use when the rule matches.")
    severities: list[str] = Field(default_factory=list, description="e.g. [critical, high].")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Alert labels that must have exactly these values."
    )
    teams: list[str] = Field(default_factory=list, description="Values of the team label.")
    kinds: list[str] = Field(
        default_factory=list, description="Event kinds, e.g. [approval_request, escalation]."
    )
    stop: bool = Field(default=False, description="Ignore the rules after this one on a match.")


class RoutingSettings(_Group):
    rules: list[RoutingRule] = Field(
        default_factory=list, description="Checked in order; the notifiers of all matches."
    )
    default_notifiers: list[str] | None = Field(
        default=None, description="When no rule matches; unset means every enabled notifier."
    )
    team_label: str = Field(default="team", description="The alert label naming the team.")


class DeliverySettings(_Group):
    max_attempts: int = Field(default=12, ge=1, description="Then the row is marked failed.")
    initial_backoff_seconds: float = Field(default=2.0, gt=0)
    max_backoff_seconds: float = Field(default=300.0, gt=0)
    max_retry_after_seconds: float = Field(
        default=3600.0, gt=0, description="Cap on a vendor's Retry-After."
    )
    poll_interval_seconds: float = Field(default=1.0, gt=0, description="Idle worker's nap.")
    lease_seconds: float = Field(
        default=120.0, gt=0, description="A claimed row is retried by others after this."
    )
    batch_size: int = Field(default=20, ge=1)
    attempt_timeout_seconds: float = Field(default=30.0, gt=0)


class VendorSettings(_Group):
    """Everything the outbox and its delivery worker need."""

    public_url: str | None = Field(
        default=None,
        description=(
            "firstline's external base URL (where serve is reached): notifications link to"
            " the console's incident page, <public_url>/incidents/<id>. Unset: no link."
        ),
    )
    pagerduty: PagerDutySettings = Field(default_factory=PagerDutySettings)
    opsgenie: OpsgenieSettings = Field(default_factory=OpsgenieSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)


class NotifySettings(VendorSettings):
    """The terminal and file notifiers, plus every vendor's (VendorSettings, read by the
    outbox and the delivery worker as they are)."""

    model_config = ConfigDict(extra="forbid")

    console: bool = Field(default=False, description="Print notifications to the terminal.")
    jsonl_path: Path | None = Field(
        default=None, description="Append notifications as JSON lines to this file."
    )
