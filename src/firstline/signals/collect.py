"""All signals of one incident, extracted once and looked up by family."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from firstline.domain.alert import Alert
from firstline.domain.evidence import EvidenceSet, LogEntry, LogEvidence, Provenance
from firstline.domain.signal import Signal
from firstline.signals.kubernetes import kubernetes_signals
from firstline.signals.logs import log_signals
from firstline.signals.scope import WorkloadScope


@dataclass(frozen=True)
class SignalSet:
    signals: tuple[Signal, ...] = ()
    scope: WorkloadScope = field(default_factory=WorkloadScope)
    resolved: bool = False
    """False for the empty default: a context built without signals collects its own."""

    def __iter__(self) -> Iterator[Signal]:
        return iter(self.signals)

    def __len__(self) -> int:
        return len(self.signals)

    def of(self, *families: str, in_scope: bool | None = True) -> list[Signal]:
        """Signals of the families; in scope only by default, `None` for all."""
        return [
            s
            for s in self.signals
            if s.family in families and (in_scope is None or s.in_scope is in_scope)
        ]

    def has(self, *families: str, in_scope: bool | None = True) -> bool:
        return bool(self.of(*families, in_scope=in_scope))

    def count(self, *families: str, in_scope: bool | None = True) -> int:
        return sum(s.count for s in self.of(*families, in_scope=in_scope))

    def families(self) -> set[str]:
        return {s.family for s in self.signals}


def _log_scope(signals: Iterable[Signal], scope: WorkloadScope) -> Iterator[Signal]:
    """A log line is the alerting workload's when its labels name it; lines without a
    workload label come from a query already scoped to the alert, so they count."""
    for signal in signals:
        workload = signal.workload
        # a name the labels gave must be the workload itself, or one of its pods by name
        # (a Deployment's <name>-<hash>-<id>, a Job's <name>-<id>): web-admin is not web
        mine = scope.empty or workload is None or scope.names(f"logs/{workload}")
        yield signal.model_copy(update={"in_scope": mine})


# Annotations people read as the alert's own words (not runbook links or dashboards).
_TEXT_ANNOTATIONS = ("summary", "description", "message", "error", "details")


def _as_lines(ref: str, lines: list[LogEntry]) -> LogEvidence:
    return LogEvidence(id=ref, provenance=Provenance(source="firstline", query=ref), entries=lines)


def text_signals(evidence: EvidenceSet, alert: Alert | None) -> list[Signal]:
    """The phrases real software writes also reach people through the alert's own text
    (an exporter's `error` annotation) and event messages ("clients reported 'remaining
    connection slots are reserved'"): the same signatures read those too, cited as such."""
    found: list[Signal] = []
    if alert is not None:
        texts = [alert.annotations[k] for k in _TEXT_ANNOTATIONS if alert.annotations.get(k)]
        lines = [LogEntry(ts=alert.starts_at, line=t) for t in texts]
        found.extend(log_signals(_as_lines("alert", lines)) if lines else [])
    events = evidence.events()
    lines = [LogEntry(ts=e.last_seen, line=e.message) for e in (events.events if events else [])]
    found.extend(log_signals(_as_lines("events", lines)) if lines else [])
    return found


def collect_signals(
    evidence: EvidenceSet,
    scope: WorkloadScope,
    now: datetime | None = None,
    alert: Alert | None = None,
) -> SignalSet:
    found = kubernetes_signals(evidence, scope, now)
    found.extend(_log_scope(log_signals(evidence.logs()), scope))
    found.extend(text_signals(evidence, alert))
    return SignalSet(signals=tuple(found), scope=scope, resolved=True)
