"""Log signals: the known error wordings found in an incident's log lines, one signal per
family and workload, with a count and the first line as the example a report cites.

Entries are the raw lines; templates are drain3's clusters of (usually) the same lines. To
count each line once, entries are counted, and a template only when none of its examples is
among the entries: then its lines were clustered from a wider query than the entries hold
(or there are no entries at all), and its `count` is the only tally of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from firstline.domain.alert import workload_of_pod
from firstline.domain.evidence import LogEntry, LogEvidence, LogTemplate
from firstline.domain.signal import Signal
from firstline.signals.log_library import Library, Match, default_library

# Label names that carry the workload, most specific first, as Loki and the OpenTelemetry
# collector write them (dots become underscores in Loki label names).
WORKLOAD_LABELS = (
    "app",
    "app_kubernetes_io_name",
    "container",
    "service_name",
    "service",
    "job",
    "pod",
)
EXAMPLE_CHARS = 300
SUMMARY_EXAMPLE_CHARS = 120
GROUP_VALUE_CHARS = 200
# How firstline.logs.clustering clips a template example; kept equal so that an example can
# be recognised among the entries without importing drain3 here.
TEMPLATE_EXAMPLE_CHARS = 500


def log_families() -> frozenset[str]:
    """The families the bundled library can emit."""
    return default_library().families


@lru_cache(maxsize=4096)  # a few pods write thousands of lines each
def _workload_of_pod(pod: str) -> str:
    return workload_of_pod(pod) or pod


def workload_of_labels(labels: dict[str, str]) -> str | None:
    for key in WORKLOAD_LABELS:
        value = labels.get(key)
        if not value or not (value := value.strip()):
            continue
        if key == "pod":
            return _workload_of_pod(value)
        if key == "job":  # Promtail's default job label is "<namespace>/<app>"
            return value.rsplit("/", 1)[-1] or None
        return value
    return None


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Tally:
    family: str
    workload: str | None
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    example: str = ""
    meaning: str = ""
    signature: str = ""
    signatures: Counter[str] = field(default_factory=Counter)
    groups: dict[str, str] = field(default_factory=dict)

    def add(self, match: Match, line: str, count: int, first: datetime, last: datetime) -> None:
        if self.first_seen is None or first < self.first_seen:
            # The earliest line is the example; its signature and details describe the signal.
            self.example = _clip(line, EXAMPLE_CHARS)
            self.meaning = match.signature.meaning
            self.signature = match.signature.id
            self.groups = {**self.groups, **match.groups}
        else:
            self.groups = {**match.groups, **self.groups}  # later lines only fill gaps
        self.count += count
        self.signatures[match.signature.id] += count
        self.first_seen = first if self.first_seen is None else min(self.first_seen, first)
        self.last_seen = last if self.last_seen is None else max(self.last_seen, last)

    def signal(self, ref: str, weak: bool) -> Signal:
        attributes = {k: _clip(v, GROUP_VALUE_CHARS) for k, v in self.groups.items()}
        attributes["signature"] = self.signature
        attributes["example"] = self.example
        if len(self.signatures) > 1:
            ranked = sorted(self.signatures.items(), key=lambda kv: (-kv[1], kv[0]))
            attributes["signatures"] = ",".join(s for s, _ in ranked)
        if weak:
            attributes["weak"] = "true"
        lines = f"{self.count} log line{'' if self.count == 1 else 's'}"
        source = f" from {self.workload}" if self.workload else ""
        quoted = _clip(self.example, SUMMARY_EXAMPLE_CHARS)
        return Signal(
            family=self.family,
            summary=f'{lines}{source}: {self.meaning} — "{quoted}"',
            ref=ref,
            subject=f"logs/{self.workload}" if self.workload else "logs",
            workload=self.workload,
            count=self.count,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            attributes=attributes,
        )


class _Collector:
    def __init__(self, library: Library) -> None:
        self._library = library
        self._tallies: dict[tuple[str, str | None], _Tally] = {}

    def add(
        self, line: str, labels: dict[str, str], count: int, first: datetime, last: datetime
    ) -> bool:
        matches = self._library.match(line)
        workload = workload_of_labels(labels) if matches else None  # most lines match nothing
        for match in matches:
            key = (match.signature.family, workload)
            tally = self._tallies.setdefault(key, _Tally(*key))
            tally.add(match, line, count, first, last)
        return bool(matches)

    def signals(self, ref: str) -> list[Signal]:
        ordered = sorted(
            self._tallies.values(), key=lambda t: (-t.count, t.family, t.workload or "")
        )
        return [t.signal(ref, t.family in self._library.weak) for t in ordered]


def _example_key(text: str) -> str:
    return text.strip().removesuffix("…")[:TEMPLATE_EXAMPLE_CHARS]


def _uncovered(templates: list[LogTemplate], entries: list[LogEntry]) -> list[LogTemplate]:
    """Templates none of whose examples is among the entries; their lines are not."""
    if not templates:
        return []
    seen = {_example_key(e.line) for e in entries}
    return [t for t in templates if not any(_example_key(x) in seen for x in t.examples)]


def log_signals(logs: LogEvidence | None, library: Library | None = None) -> list[Signal]:
    """One signal per (family, workload) found in `logs`, most lines first."""
    if logs is None:
        return []
    collector = _Collector(library or default_library())
    for entry in logs.entries:  # in any order: each tally keeps its earliest line
        collector.add(entry.line, entry.labels, 1, entry.ts, entry.ts)
    for template in _uncovered(logs.templates, logs.entries):
        # Examples are real lines and keep the details (hosts, paths) the masks removed; the
        # template text is the fallback when no example matches or none was kept.
        for text in [*template.examples, template.template]:
            if collector.add(text, {}, template.count, template.first_seen, template.last_seen):
                break
    return collector.signals(logs.id)
