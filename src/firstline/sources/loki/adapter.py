"""Loki as a LogBackend: the alert's lines over the incident window, clustered into templates.

One LogQL stream selector is built from the alert's own labels (those named in
`selector_labels`), narrowed to the label names the server has seen in the window, and read
newest first up to `limit` lines. Every failure becomes evidence with status error and the
reason; nothing raises into the graph.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from firstline.domain.evidence import EvidenceStatus, LogEntry, LogEvidence, LogTemplate, Provenance
from firstline.domain.query import QueryScope
from firstline.logs import cluster, sample
from firstline.sources.errors import SourceBadResponse, SourceError, SourceRejected
from firstline.sources.loki.client import Direction, LogLine, LokiClient, from_ns
from firstline.sources.loki.logql import SelectorPlan, plan_selector
from firstline.sources.settings import LokiSettings

SOURCE = "loki"
EVIDENCE_ID = "logs"
NO_SELECTOR = "(no stream selector)"


def _digest(
    lines: Sequence[LogLine], max_templates: int, examples: int, max_entries: int
) -> tuple[list[LogEntry], list[LogTemplate]]:
    """CPU-bound (tens of thousands of lines): run off the event loop. Entries are made
    oldest first, so lines within one microsecond (LogEntry's precision) keep their order."""
    ordered = sorted(lines, key=lambda x: x.ts_ns)
    entries = [LogEntry(ts=from_ns(x.ts_ns), line=x.line, labels=x.labels) for x in ordered]
    templates = cluster(entries, max_templates=max_templates, examples=examples)
    return sample(entries, templates, max_entries), templates


class LokiBackend:
    name = SOURCE

    def __init__(
        self,
        settings: LokiSettings,
        client: LokiClient | None = None,
        *,
        discover_labels: bool = True,
        direction: Direction = "backward",
        max_entries: int = 100,
        max_templates: int = 20,
        examples: int = 3,
    ) -> None:
        self.settings = settings
        self.client = client or LokiClient(settings)
        self.discover_labels = discover_labels
        self.direction = direction
        self.max_entries = max_entries
        self.max_templates = max_templates
        self.examples = examples

    async def plan(self, scope: QueryScope) -> SelectorPlan:
        """The selector for this alert. Raises SourceError when discovery fails in a way the
        query itself would too; a refused discovery (some proxies forbid it) is skipped."""
        labels, names = scope.alert.labels, self.settings.selector_labels
        if not self.discover_labels or not plan_selector(labels, names).matchers:
            return plan_selector(labels, names)
        try:
            known = await self.client.labels(scope.start, scope.end)
        except (SourceRejected, SourceBadResponse):
            return plan_selector(labels, names)
        return plan_selector(labels, names, known=set(known))

    async def logs(self, scope: QueryScope) -> LogEvidence:
        labels, names = scope.alert.labels, self.settings.selector_labels
        try:
            plan = await self.plan(scope)
        except SourceError as exc:
            query = plan_selector(labels, names).selector or NO_SELECTOR
            return _empty(scope, query, EvidenceStatus.ERROR, f"label discovery: {exc}")
        if plan.selector is None:
            return _empty(scope, NO_SELECTOR, EvidenceStatus.NO_DATA, _why_none(plan, names))
        try:
            read = await self.client.read(
                plan.selector, scope.start, scope.end, limit=self.settings.limit,
                direction=self.direction,
            )  # fmt: skip
        except SourceError as exc:
            return _empty(scope, plan.selector, EvidenceStatus.ERROR, str(exc))
        if not read.lines:
            return _empty(
                scope, plan.selector, EvidenceStatus.NO_DATA,
                "no log lines matched the selector in the window",
            )  # fmt: skip
        entries, templates = await asyncio.to_thread(
            _digest, read.lines, self.max_templates, self.examples, self.max_entries
        )
        notes = _notes(plan, read.truncated, self.settings.limit, self.direction)
        return LogEvidence(
            id=EVIDENCE_ID,
            provenance=_provenance(scope, plan.selector),
            entries=entries,
            templates=templates,
            total_lines=len(read.lines),
            reason="; ".join(notes) or None,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def probe(self) -> str:
        """The server's version, or, for servers without buildinfo (qryn), its label count."""
        try:
            return await self.client.build_info()
        except (SourceRejected, SourceBadResponse):
            pass
        now = datetime.now(UTC)
        known = await self.client.labels(now - timedelta(hours=1), now)
        return f"Loki API ({len(known)} labels in the last hour)"


def _provenance(scope: QueryScope, query: str) -> Provenance:
    return Provenance(source=SOURCE, query=query, start=scope.start, end=scope.end)


def _empty(scope: QueryScope, query: str, status: EvidenceStatus, reason: str) -> LogEvidence:
    return LogEvidence(
        id=EVIDENCE_ID, provenance=_provenance(scope, query), status=status, reason=reason
    )


def _why_none(plan: SelectorPlan, names: Sequence[str]) -> str:
    if plan.unknown:
        return f"the log store has no streams labelled {', '.join(plan.unknown)} in the window"
    if plan.invalid:
        return f"not valid LogQL label names: {', '.join(plan.invalid)}"
    return f"the alert has none of the labels {', '.join(names)}"


def _notes(plan: SelectorPlan, truncated: bool, limit: int, direction: Direction) -> list[str]:
    notes = []
    if plan.unknown:
        notes.append(f"left out labels the log store does not have: {', '.join(plan.unknown)}")
    if plan.invalid:
        notes.append(f"left out invalid label names: {', '.join(plan.invalid)}")
    if truncated:
        which = "newest" if direction == "backward" else "oldest"
        notes.append(f"more than {limit} lines matched; templates cover the {which} {limit}")
    return notes
