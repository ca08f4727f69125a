"""Everything the nodes need, built once by wiring.py and passed to build_graph()."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from firstline.actions.base import Executor
from firstline.detection.detectors import Detector
from firstline.domain.alert import Alert
from firstline.graph.settings import GraphSettings
from firstline.notify.base import Notifier
from firstline.patterns.registry import PatternRegistry
from firstline.policy.schema import Policy
from firstline.reasoning.base import Reasoner
from firstline.sources.base import EvidenceSource
from firstline.store.incidents import IncidentStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GraphDeps:
    source: EvidenceSource
    executor: Executor
    reasoner: Reasoner
    registry: PatternRegistry
    policy: Policy
    detector: Detector
    store: IncidentStore
    notifiers: Sequence[Notifier]
    settings: GraphSettings
    clock: Callable[[], datetime] = utc_now
    """Wall clock: timeline, approval expiry."""
    evidence_clock: Callable[[], datetime] = utc_now
    """The 'now' evidence is gathered around; a replayed scenario pins it to its own time."""
    source_timeout_seconds: float = 15.0
    gather_budget_seconds: float = 30.0
    grouped_alerts: Callable[[str], list[Alert]] | None = None
    """The alerts intake grouped into an incident (serve); None outside the server."""
