"""Who may approve what (docs/policy.md#who-may-approve).

`approvers:` in the policy lists rules; each names principals (globs: `alice`,
`slack:U0123ABCD`, `oncall-*`) and, like an allow rule, the action types, namespaces,
targets and severities it covers. An approval is accepted only when every pending action
is covered by a rule naming the approving principal. Without the section, any
authenticated principal may approve (and is recorded as itself, never as a typed name).
Rejections are always accepted: they only escalate.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from pydantic import Field

from firstline.domain.action import RemediationAction
from firstline.domain.alert import Severity
from firstline.policy.sections import ActionRule


class ApproverRule(ActionRule):
    principals: tuple[str, ...] = Field(
        min_length=1, description="Principals (globs) this rule lets approve."
    )

    def covers(self, principal: str, action: RemediationAction, severity: Severity) -> bool:
        return any(fnmatchcase(principal, p) for p in self.principals) and self.matches(
            action.type, action.target, severity
        )


def approval_refusal(
    rules: tuple[ApproverRule, ...] | None,
    principal: str,
    actions: Sequence[RemediationAction],
    severity: Severity,
) -> str | None:
    """Why `principal` may not approve these actions, or None if it may."""
    if rules is None:
        return None
    for action in actions:
        if not any(rule.covers(principal, action, severity) for rule in rules):
            return (
                f"{principal} may not approve {action.describe()} at severity"
                f" {severity.value} (policy approvers)"
            )
    return None
