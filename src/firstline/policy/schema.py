"""The policy file (YAML). Every field has a documented default; see docs/policy.md."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from firstline.errors import InvalidInput
from firstline.policy.approvers import ApproverRule
from firstline.policy.mode import Mode as Mode  # re-exported: the policy model carries it
from firstline.policy.runbooks import Runbook
from firstline.policy.sections import ActionRules, BlastRadius, FreezeWindow, RateLimits
from firstline.support.yamlfile import load_yaml_mapping

DEFAULT_STATEFUL = (
    "database", "db", "postgres", "postgresql", "mysql", "mariadb", "mongo", "mongodb",
    "redis", "kafka", "elasticsearch", "opensearch", "zookeeper", "etcd", "cassandra",
    "rabbitmq", "clickhouse", "minio",
)  # fmt: skip

DEFAULT_SENSITIVE = (
    "data loss", "data-loss", "corruption", "corrupt", "security", "breach",
    "unauthorized", "exfiltration", "ransomware", "compromised",
)  # fmt: skip


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = Field(
        default=Mode.APPROVE, description="observe | approve | auto. New installs start in approve."
    )
    confidence_threshold: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Below this top confidence, escalate."
    )
    stateful_targets: tuple[str, ...] = Field(
        default=DEFAULT_STATEFUL,
        description="Words that mark a target as stateful (matched against its name and kind).",
    )
    sensitive_words: tuple[str, ...] = Field(
        default=DEFAULT_SENSITIVE,
        description="Critical alerts mentioning these escalate: no automated action.",
    )
    approval_timeout_seconds: float = Field(
        default=3600.0, gt=0, description="An unanswered approval request escalates after this."
    )
    # -- guard rails (docs/policy.md#guard-rails); the defaults change nothing ----------------
    actions: ActionRules | None = Field(
        default=None,
        description="Allow/deny rules. Absent: every catalog action may run, in any namespace.",
    )
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    freeze_windows: tuple[FreezeWindow, ...] = ()
    blast_radius: BlastRadius = Field(default_factory=BlastRadius)
    kill_switch: bool = Field(default=False, description="True: no action executes at all.")
    kill_switch_file: Path | None = Field(
        default=None, description="If this file exists, no action executes."
    )
    undo_on_failed_verification: bool = Field(
        default=False, description="Undo a round's actions when its verification fails."
    )
    approvers: tuple[ApproverRule, ...] | None = Field(
        default=None,
        description="Who may approve which actions. Absent: any authenticated principal.",
    )
    runbooks: tuple[Runbook, ...] = Field(
        default=(),
        description="The operator's own fix per diagnosis (docs/policy.md#runbooks); the first "
        "that matches supplies the action, the rules above still decide.",
    )

    @field_validator("runbooks")
    @classmethod
    def _unique_runbook_ids(cls, value: tuple[Runbook, ...]) -> tuple[Runbook, ...]:
        seen: set[str] = set()
        for runbook in value:
            if runbook.id in seen:
                raise ValueError(f"two runbooks share the id {runbook.id!r}")
            seen.add(runbook.id)
        return value


class PolicyError(InvalidInput, ValueError):
    """The policy file is missing or does not validate; the message names the spot."""


def load_policy(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    raw = load_yaml_mapping(path, PolicyError, "policy file")
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise PolicyError(f"policy file {path}: {where}: {err['msg']}") from exc
