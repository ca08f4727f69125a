"""One readable line of an audit record's details: the `firstline audit show` table and
the postmortem's audit trail."""

from __future__ import annotations

from typing import Any

from firstline.store.audit import AuditRecord


def _describe(action: dict[str, Any]) -> str:
    target = action.get("target") or {}
    scope = f"{target.get('namespace')}/" if target.get("namespace") else ""
    return f"{action.get('type')} {target.get('kind')}/{scope}{target.get('name')}"


def audit_line(record: AuditRecord) -> str:
    """One readable line of a record's details for the table."""
    d = record.details
    action = d.get("action")
    parts: list[str] = [_describe(action)] if isinstance(action, dict) else []
    actions = d.get("actions")
    if isinstance(actions, list) and actions:
        parts.append("actions=" + ", ".join(_describe(a) for a in actions if isinstance(a, dict)))
    for key in ("outcome", "rule", "reason", "result", "state", "detail", "diff", "comment"):
        value = d.get(key)
        if value not in (None, ""):
            parts.append(f"{key}={value}")
    if record.kind == "approval":
        parts.insert(0, "approved" if d.get("approved") else "rejected")
    return "; ".join(str(p) for p in parts)
