"""What an incident run depends on, handed to the graph at run time.

The graph is compiled once with no dependencies (graph/builder.py); the runner passes a
`GraphContext` on every call (LangGraph's runtime context, `context=`), so a run resumed
later, in another process or with another executor, uses the context of the call that
resumes it, not the one that started it. Nothing here is stored in a checkpoint.

Nodes take `(state, ctx)`: the builder's adapter (graph/recording.py) reads
`runtime.context` and passes it on, so a node is a plain async function of the state and
its dependencies, callable directly in a test, and only the adapter knows LangGraph's
`Runtime`. Storage is reached only through the ports of store/base.py: the audit trail
and the action ledger are passed in, never opened by a node.
"""

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
from firstline.store.base import ActionLedger, AuditTrail
from firstline.store.incidents import IncidentStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GraphContext:
    """Replace one dependency with `dataclasses.replace(ctx, executor=...)`."""

    source: EvidenceSource
    executor: Executor
    reasoner: Reasoner
    registry: PatternRegistry
    policy: Policy
    detector: Detector
    store: IncidentStore
    audit: AuditTrail
    ledger: ActionLedger
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
