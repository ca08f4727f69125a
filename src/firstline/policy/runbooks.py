"""Runbooks: the operator's own proven fix for a diagnosis, declared in the policy file.

A runbook binds a pattern (plus optional alert-label and target matchers) to one catalog
action. It only changes *what* is proposed; the decision engine then judges the proposal
with its rules unchanged. Documented in docs/policy.md#runbooks.

Matchers are written as Alertmanager writes them (`name=value`, `name!=value`, `name=~re`,
`name!~re`; regexes are anchored; a missing label is the empty string). Parameter and
target values may quote an alert label as `{{ labels.NAME }}` and nothing else: no
expressions, no filters, so a label value can fill a slot but never change its shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from firstline.actions.catalog import CATALOG, make_action
from firstline.actions.scripts import PARAMETER_KEY, RESERVED, ScriptRefused, parameter_text
from firstline.domain.action import ActionType, ParamValue, RemediationAction, Risk, Target
from firstline.domain.alert import Alert
from firstline.domain.hypothesis import RootCauseHypothesis

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_LABEL_REF = re.compile(r"^\s*labels\.([A-Za-z_][A-Za-z0-9_]*)\s*$")
_RUNBOOK_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
TARGET_FIELDS = ("kind", "name", "namespace")


@dataclass(frozen=True)
class Matcher:
    """One Alertmanager-style matcher on a map of labels."""

    name: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Matcher:
        found = _MATCHER.match(text)
        if found is None:
            raise ValueError(f"{text!r} is not a matcher like name=value, name!=value, name=~re")
        name, op, value = found.groups()
        if value.startswith('"'):
            try:
                value = str(json.loads(value))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{text!r}: the quoted value is not closed") from exc
        matcher = cls(name, op, value)
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{text!r}: {exc}") from exc
        return matcher

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op in ("=", "!="):
            return (actual == self.value) == (self.op == "=")
        return (re.fullmatch(self.value, actual) is not None) == (self.op == "=~")


def _matchers(texts: tuple[str, ...]) -> tuple[Matcher, ...]:
    return tuple(Matcher.parse(t) for t in texts)


def _label_refs(text: str) -> list[str]:
    """The labels a value quotes; anything else between {{ }} is refused."""
    refs = []
    for inner in _PLACEHOLDER.findall(text):
        ref = _LABEL_REF.match(inner)
        if ref is None:
            raise ValueError(f"{{{{{inner}}}}}: only {{{{ labels.NAME }}}} may be quoted")
        refs.append(ref.group(1))
    return refs


class _UnusableLabel(ValueError):
    """An alert label a runbook quotes is missing or not a safe value."""


def _fill(text: str, labels: Mapping[str, str]) -> str:
    def label(found: re.Match[str]) -> str:
        ref = _LABEL_REF.match(found.group(1))
        assert ref is not None  # checked at load
        value = labels.get(ref.group(1))
        if not value:
            raise _UnusableLabel(f"the alert has no label {ref.group(1)}")
        return value

    return _PLACEHOLDER.sub(label, text)


class RunbookWhen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(description="The diagnosed pattern id (the top hypothesis').")
    alert: tuple[str, ...] = Field(
        default=(), description="Matchers on the alert's labels, e.g. mountpoint=~/srv/.*"
    )
    target: tuple[str, ...] = Field(
        default=(), description="Matchers on the hypothesis' target: kind, name, namespace."
    )

    @field_validator("alert")
    @classmethod
    def _alert_matchers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _matchers(value)
        return value

    @field_validator("target")
    @classmethod
    def _target_matchers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for matcher in _matchers(value):
            if matcher.name not in TARGET_FIELDS:
                raise ValueError(
                    f"a target matcher names kind, name or namespace, not {matcher.name}"
                )
        return value


class RunbookTarget(BaseModel):
    """Fields given here replace the hypothesis' target's; the rest are kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str | None = None
    name: str | None = None
    namespace: str | None = None

    @field_validator("kind", "name", "namespace")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        if value is not None:
            _label_refs(value)
        return value


class Runbook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Named in the decision, the report and the audit.")
    when: RunbookWhen
    action: ActionType = Field(description="Any automatable catalog action type.")
    target: RunbookTarget = Field(default_factory=RunbookTarget)
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    risk: Risk | None = Field(default=None, description="Absent: the catalog's default risk.")
    replace: bool = Field(
        default=False,
        description="true: the runbook's action is the only proposal; false: it replaces only "
        "the pattern's manual_only steps and keeps its automatable proposals.",
    )
    description: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _RUNBOOK_ID.match(value):
            raise ValueError(f"runbook id {value!r} must be lower-case letters, digits, . _ -")
        return value

    @field_validator("action")
    @classmethod
    def _automatable(cls, value: ActionType) -> ActionType:
        if not CATALOG[value].automatable:
            raise ValueError(f"{value.value} is never executed by firstline; a runbook must act")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, value: dict[str, ParamValue]) -> dict[str, ParamValue]:
        for key, item in value.items():
            if not PARAMETER_KEY.match(key) or key in RESERVED - {"script"}:
                raise ValueError(f"parameter name {key!r} is not a plain word")
            if isinstance(item, str):
                _label_refs(item)
                try:
                    parameter_text(key, item)
                except ScriptRefused as exc:
                    raise ValueError(str(exc)) from exc
        return value

    @model_validator(mode="after")
    def _script_named(self) -> Self:
        if self.action is ActionType.CUSTOM_SCRIPT and not isinstance(
            self.parameters.get("script"), str
        ):
            raise ValueError("a custom_script runbook names its script (parameters.script)")
        return self

    def matches(self, alert: Alert, hypothesis: RootCauseHypothesis, base: Target | None) -> bool:
        if hypothesis.pattern != self.when.pattern:
            return False
        if not all(m.matches(alert.labels) for m in _matchers(self.when.alert)):
            return False
        if not self.when.target:
            return True
        if base is None:
            return False
        fields = {k: v for k, v in base.model_dump().items() if isinstance(v, str)}
        return all(m.matches(fields) for m in _matchers(self.when.target))

    def build(self, alert: Alert, base: Target | None) -> RemediationAction:
        """The runbook's action for this alert; _UnusableLabel when a quoted label is missing
        or unsafe."""
        given = {k: v for k, v in self.target.model_dump().items() if v is not None}
        fields = (base.model_dump() if base is not None else {}) | {
            k: _fill(v, alert.labels) for k, v in given.items()
        }
        if not fields.get("kind") or not fields.get("name"):
            raise _UnusableLabel("it names no target and the hypothesis has none")
        parameters: dict[str, ParamValue] = {}
        for key, value in self.parameters.items():
            if isinstance(value, str):
                value = _fill(value, alert.labels)
                try:
                    parameter_text(key, value)
                except ScriptRefused as exc:
                    raise _UnusableLabel(str(exc)) from exc
            parameters[key] = value
        action = make_action(
            self.action,
            Target.model_validate(fields),
            rationale=self.description or f"the operator's runbook for {self.when.pattern}",
            risk=self.risk,
            parameters=parameters,
        )
        return action.model_copy(update={"runbook": self.id})


@dataclass(frozen=True)
class Bound:
    """What the runbooks made of a hypothesis' proposals."""

    actions: list[RemediationAction]
    note: str = ""
    """For the decision's reason: which runbook supplied what, or why a matching one could
    not."""


def _base_target(hypothesis: RootCauseHypothesis) -> Target | None:
    """The hypothesis' target: its manual steps' (what the runbook stands in for), else its
    first action's."""
    actions = hypothesis.suggested_actions
    manual = [a for a in actions if a.type is ActionType.MANUAL_ONLY]
    chosen = manual or actions
    return chosen[0].target if chosen else None


def bind(runbooks: Iterable[Runbook], alert: Alert, hypothesis: RootCauseHypothesis) -> Bound:
    """The first runbook (in file order) whose pattern and matchers hold supplies its action.
    Callers bind only a hypothesis at or above the confidence threshold."""
    actions = list(hypothesis.suggested_actions)
    base = _base_target(hypothesis)
    for runbook in runbooks:
        if not runbook.matches(alert, hypothesis, base):
            continue
        try:
            supplied = runbook.build(alert, base)
        except _UnusableLabel as exc:
            return Bound(actions, f"runbook {runbook.id} matched but was not used: {exc}")
        kept = (
            [] if runbook.replace else [a for a in actions if a.type is not ActionType.MANUAL_ONLY]
        )
        return Bound([*kept, supplied], f"the {supplied.type.value} is from runbook {runbook.id}")
    return Bound(actions)


def check_runbook_patterns(runbooks: Iterable[Runbook], known: Iterable[str]) -> str | None:
    """The first runbook naming a pattern the registry does not have, as an error message.
    Checked where the registry is loaded (wiring): policy files come before patterns."""
    ids = set(known)
    for index, runbook in enumerate(runbooks):
        if runbook.when.pattern not in ids:
            return (
                f"runbooks.{index}.when.pattern: {runbook.when.pattern!r} (runbook {runbook.id}) "
                f"is not a known pattern; known: {', '.join(sorted(ids))}"
            )
    return None
