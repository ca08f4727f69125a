"""The EvidenceSource port. Implementations never raise into the graph: they return
evidence with status error or no_data and a reason."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from firstline.domain.alert import Alert
from firstline.domain.evidence import (
    Evidence,
    LogEvidence,
    MetricEvidence,
    RelatedAlertsEvidence,
)
from firstline.domain.query import MetricQuery, QueryScope


@runtime_checkable
class EvidenceSource(Protocol):
    """Everything the graph may ask of the outside world while investigating."""

    name: str

    async def metric(self, query: MetricQuery, scope: QueryScope) -> MetricEvidence: ...

    async def logs(self, scope: QueryScope) -> LogEvidence: ...

    async def cluster_state(self, scope: QueryScope) -> list[Evidence]:
        """Deployments with rollout history, pods, events and nodes, as separate items."""
        ...

    async def related_alerts(self, scope: QueryScope) -> RelatedAlertsEvidence: ...

    async def alert_firing(self, alert: Alert) -> bool | None:
        """Whether the original alert still fires; None when the source cannot tell."""
        ...


# -- backends -------------------------------------------------------------------------------
# Each real integration implements one of these narrow ports; CompositeSource assembles them
# into the EvidenceSource the graph uses. `probe()` is for `firstline check`: it returns a
# short description of what answered (e.g. a version) or raises with the reason.


@runtime_checkable
class MetricBackend(Protocol):
    name: str

    async def metric(self, query: MetricQuery, scope: QueryScope) -> MetricEvidence: ...

    async def alert_condition_holds(self, alert: Alert) -> bool | None:
        """Re-evaluate the alert's own rule expression; None when it cannot be found."""
        ...

    async def probe(self) -> str: ...


@runtime_checkable
class LogBackend(Protocol):
    name: str

    async def logs(self, scope: QueryScope) -> LogEvidence: ...

    async def probe(self) -> str: ...


@runtime_checkable
class ClusterBackend(Protocol):
    name: str

    async def cluster_state(self, scope: QueryScope) -> list[Evidence]: ...

    async def probe(self) -> str: ...


@runtime_checkable
class AlertBackend(Protocol):
    name: str

    async def related_alerts(self, scope: QueryScope) -> RelatedAlertsEvidence: ...

    async def alert_firing(self, alert: Alert) -> bool | None: ...

    async def probe(self) -> str: ...
