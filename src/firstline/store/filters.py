"""What an incident list may be narrowed by (the console's filters), as SQL both dialects
run: every clause keeps the newest-first walk along an index of created_at."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from firstline.domain.alert import Severity

# the labels Alert.service reads a workload's name from (domain/alert.py)
SERVICE_LABELS = ("deployment", "statefulset", "daemonset", "service", "app", "job")


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ListFilters(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity | None = None
    service: str | None = None
    """An incident one of whose alerts carries this workload label value."""
    since: datetime | None = None
    """Created at or after."""
    before: datetime | None = None
    """Created strictly before: the next page starts at the last row's created_at."""

    def where(self) -> tuple[list[str], list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        if self.severity is not None:
            clauses.append("severity = ?")
            args.append(self.severity.value)
        if self.since is not None:
            clauses.append("created_at >= ?")
            args.append(self.since.isoformat())
        if self.before is not None:
            clauses.append("created_at < ?")
            args.append(self.before.isoformat())
        if self.service:
            value = _like_literal(json.dumps(self.service, ensure_ascii=False))
            patterns = self._label_patterns(value)
            # the quoted value anywhere first: one pass rules out an alert that lacks it
            like = "alerts.alert LIKE ? ESCAPE '\\'"
            clauses.append(
                f"EXISTS (SELECT 1 FROM alerts WHERE alerts.incident_id = incidents.id AND {like}"
                f" AND ({' OR '.join(like for _ in patterns)}))"
            )
            args.extend([f"%{value}%", *patterns])
        return clauses, args

    @staticmethod
    def _label_patterns(value: str) -> list[str]:
        """The stored alert is its JSON (compact, as pydantic writes it; spaced, as older
        writers did): one pattern per workload label and spacing."""
        return [f'%"{label}"{sep}{value}%' for label in SERVICE_LABELS for sep in (":", ": ")]


NO_FILTERS = ListFilters()
