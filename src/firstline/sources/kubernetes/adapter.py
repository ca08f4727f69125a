"""Kubernetes as a ClusterBackend: five evidence items from five listings.

Items: deployments (with rollout history), pods, events, nodes, and changes (rollouts inside
the incident window). All listings run concurrently; each item depends only on the listings
it needs, so a forbidden or slow call turns its items into errors with the reason while the
rest still arrive. Nothing here raises into the graph.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from firstline.domain.evidence import (
    ChangeEvidence,
    DeploymentEvidence,
    EventEvidence,
    Evidence,
    EvidenceStatus,
    KubeEvent,
    NodeEvidence,
    PodEvidence,
    PodState,
    Provenance,
)
from firstline.domain.query import QueryScope
from firstline.sources.errors import SourceError
from firstline.sources.kubernetes.client import (
    DEPLOYMENTS,
    EVENTS,
    NODES,
    PODS,
    REPLICASETS,
    KubernetesClient,
    Listing,
    api_call,
)
from firstline.sources.kubernetes.history import Step, history, rollout_changes, to_deployment
from firstline.sources.kubernetes.scoping import (
    Focus,
    kube_event,
    node_state,
    node_troubled,
    pod_owner,
    pod_state,
    replicaset_owners,
    resolve_focus,
)
from firstline.sources.kubernetes.wire import (
    DeploymentObject,
    EventObject,
    NodeObject,
    PodObject,
    ReplicaSetObject,
)
from firstline.sources.settings import KubernetesSettings

SOURCE = "kubernetes"
MAX_ITEMS = 200
"""Per evidence list. The alert's own workload is sorted first, so a cap drops bystanders."""
ITEM_IDS = ("deployments", "pods", "events", "nodes", "changes")
_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")


async def _attempt(call: Awaitable[Listing[_M]]) -> Listing[_M] | SourceError:
    try:
        return await call
    except SourceError as exc:
        return exc


_Histories = list[tuple[DeploymentObject, list[Step]]] | SourceError


@dataclass(frozen=True)
class _Cluster:
    """What the five listings returned: objects, or the error that stands in for them."""

    deployments: Listing[DeploymentObject] | SourceError
    replicasets: Listing[ReplicaSetObject] | SourceError
    pods: Listing[PodObject] | SourceError
    events: Listing[EventObject] | SourceError
    nodes: Listing[NodeObject] | SourceError

    def histories(self) -> _Histories:
        """Each Deployment with its rollout history; needs both apps listings."""
        if isinstance(self.deployments, SourceError):
            return self.deployments
        if isinstance(self.replicasets, SourceError):
            return self.replicasets
        replicasets = self.replicasets.items
        return [(d, history(d, replicasets)) for d in self.deployments.items]


def _items(listing: Listing[_M] | SourceError) -> tuple[_M, ...]:
    return () if isinstance(listing, SourceError) else listing.items


def _capped(items: Iterable[_T], first: Callable[[_T], bool]) -> list[_T]:
    """The alert's own objects first, in their original order, then the rest; at most
    MAX_ITEMS."""
    listed = list(items)
    ordered = [i for i in listed if first(i)] + [i for i in listed if not first(i)]
    return ordered[:MAX_ITEMS]


class KubernetesBackend:
    name = SOURCE

    def __init__(
        self, settings: KubernetesSettings, client: KubernetesClient | None = None
    ) -> None:
        self.settings = settings
        self.client = client or KubernetesClient(settings)

    async def probe(self) -> str:
        return await self.client.probe()

    def close(self) -> None:
        self.client.close()

    async def cluster_state(self, scope: QueryScope) -> list[Evidence]:
        try:
            return await self._cluster_state(scope)
        except Exception as exc:  # a bug here must still leave the incident its other evidence
            reason = f"internal error reading cluster state: {type(exc).__name__}: {exc}"
            return [self._failed(i, scope, reason) for i in ITEM_IDS]

    async def _cluster_state(self, scope: QueryScope) -> list[Evidence]:
        ns = scope.namespace
        deployments, replicasets, pods, events, nodes = await asyncio.gather(
            _attempt(self.client.deployments(ns)),
            _attempt(self.client.replicasets(ns)),
            _attempt(self.client.pods(ns)),
            _attempt(self.client.events(ns)),
            _attempt(self.client.nodes()),
        )
        cluster = _Cluster(deployments, replicasets, pods, events, nodes)
        owners = replicaset_owners(_items(cluster.replicasets))
        focus = resolve_focus(
            scope.alert,
            scope.service,
            _items(cluster.deployments),
            _items(cluster.replicasets),
            _items(cluster.pods),
            owners,
        )
        histories = cluster.histories()
        return [
            self._deployments(scope, histories, focus),
            self._pods(scope, cluster, focus),
            self._events(scope, cluster, focus),
            self._nodes(scope, cluster, focus),
            self._changes(scope, histories),
        ]

    # -- one item each ---------------------------------------------------------------------

    def _provenance(self, scope: QueryScope, *calls: str) -> Provenance:
        return Provenance(source=SOURCE, query="; ".join(calls), start=scope.start, end=scope.end)

    def _calls(self, scope: QueryScope, item: str) -> list[str]:
        ns = scope.namespace
        by_item = {
            "deployments": [api_call(DEPLOYMENTS, ns), api_call(REPLICASETS, ns)],
            "pods": [api_call(PODS, ns), api_call(REPLICASETS, ns)],
            "events": [api_call(EVENTS, ns)],
            "nodes": [api_call(NODES, None)],
            "changes": [api_call(DEPLOYMENTS, ns), api_call(REPLICASETS, ns)],
        }
        return by_item[item]

    def _failed(self, item: str, scope: QueryScope, reason: str) -> Evidence:
        kinds: dict[str, Callable[..., Evidence]] = {
            "deployments": DeploymentEvidence,
            "pods": PodEvidence,
            "events": EventEvidence,
            "nodes": NodeEvidence,
            "changes": ChangeEvidence,
        }
        return kinds[item](
            id=item,
            provenance=self._provenance(scope, *self._calls(scope, item)),
            status=EvidenceStatus.ERROR,
            reason=reason,
        )

    def _deployments(self, scope: QueryScope, histories: _Histories, focus: Focus) -> Evidence:
        if isinstance(histories, SourceError):
            return self._failed("deployments", scope, str(histories))
        limit = self.settings.history_limit
        built = [to_deployment(d, steps, limit) for d, steps in histories]
        mine = _capped(built, lambda d: (d.namespace, d.name) in focus.workloads)
        return DeploymentEvidence(
            id="deployments",
            provenance=self._provenance(scope, *self._calls(scope, "deployments")),
            deployments=mine,
        )

    def _pods(self, scope: QueryScope, cluster: _Cluster, focus: Focus) -> Evidence:
        if isinstance(cluster.pods, SourceError):
            return self._failed("pods", scope, str(cluster.pods))
        owners = replicaset_owners(_items(cluster.replicasets))
        states: Sequence[PodState] = [
            pod_state(p, pod_owner(p, owners)) for p in cluster.pods.items
        ]
        return PodEvidence(
            id="pods",
            provenance=self._provenance(scope, *self._calls(scope, "pods")),
            pods=_capped(states, lambda p: focus.has_pod(p.namespace, p.name)),
        )

    def _events(self, scope: QueryScope, cluster: _Cluster, focus: Focus) -> Evidence:
        """Events inside the window that involve the alert's workload (its Deployment,
        ReplicaSets, pods, their nodes), plus Warning events about anything else in scope: a
        failing dependency shows up there. With no workload to focus on, all of them."""
        if isinstance(cluster.events, SourceError):
            return self._failed("events", scope, str(cluster.events))
        kept: list[tuple[bool, KubeEvent]] = []
        for event in cluster.events.items:
            seen = event.last_seen
            if seen is None or not scope.start <= seen <= scope.end:
                continue
            involved = focus.empty or focus.involves(event)
            if involved or event.type == "Warning":
                kept.append((involved, kube_event(event, seen)))
        kept.sort(key=lambda pair: pair[1].last_seen, reverse=True)
        return EventEvidence(
            id="events",
            provenance=self._provenance(scope, *self._calls(scope, "events")),
            events=[e for _, e in _capped(kept, lambda pair: pair[0])],
        )

    def _nodes(self, scope: QueryScope, cluster: _Cluster, focus: Focus) -> Evidence:
        if isinstance(cluster.nodes, SourceError):
            return self._failed("nodes", scope, str(cluster.nodes))
        hosting = {p.spec.node_name for p in _items(cluster.pods) if p.spec.node_name}
        states = [node_state(n) for n in cluster.nodes.items]
        ranked = sorted(
            states,
            key=lambda n: (n.name not in focus.nodes, n.name not in hosting, not node_troubled(n)),
        )
        return NodeEvidence(
            id="nodes",
            provenance=self._provenance(scope, *self._calls(scope, "nodes")),
            nodes=ranked[:MAX_ITEMS],
        )

    def _changes(self, scope: QueryScope, histories: _Histories) -> Evidence:
        if isinstance(histories, SourceError):
            return self._failed("changes", scope, str(histories))
        alert_at = scope.alert.starts_at
        records = [
            record
            for d, steps in histories
            for record in rollout_changes(d, steps, scope.start, scope.end, alert_at)
        ]
        records.sort(key=lambda r: r.at, reverse=True)
        return ChangeEvidence(
            id="changes",
            provenance=self._provenance(scope, *self._calls(scope, "changes")),
            changes=records[:MAX_ITEMS],
        )
