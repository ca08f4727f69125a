"""node_not_ready: a NotReady node behind the alert; a person cordons and drains it."""

from __future__ import annotations

from firstline.domain.action import ActionType
from firstline.domain.evidence import KubeEvent, NodeState, PodState
from firstline.patterns.library.node_not_ready import PATTERN

from .builders_b import bundle_context, context, event, evidence, make_alert, node, pod


def _cluster(bad: str = "n3") -> tuple[list[NodeState], list[PodState], list[KubeEvent]]:
    nodes = [node("n1"), node("n2"), node(bad, ready="Unknown", reason="NodeStatusUnknown")]
    pods = [
        pod("orders-a", "orders", node="n1"),
        pod("orders-b", "orders", node=bad, ready=False),
        pod("cart-a", "cart", node=bad, ready=False),
        pod("cart-b", "cart", node="n2"),
    ]
    events = [
        event(
            "NodeNotReady",
            f"Node {bad} status is now: NodeNotReady",
            f"node/{bad}",
            kind="Normal",
            minutes=20,
        )
    ]
    return nodes, pods, events


def test_node_alert_names_the_node_and_hands_over_steps() -> None:
    nodes, pods, events = _cluster()
    alert = make_alert(
        "KubeNodeNotReady", node="n3", namespace="monitoring", service="kube-state-metrics"
    )
    h = PATTERN.evaluate(context(alert, evidence(nodes=nodes, pods=pods, events=events))).hypothesis
    assert h is not None
    assert h.pattern == "node_not_ready"
    assert 0.85 <= h.confidence <= 0.95
    assert h.affected_components[0] == "n3"
    assert {"cart", "orders"} <= set(h.affected_components)
    assert {"nodes", "pods", "events"} <= set(h.evidence_refs)
    [action] = h.suggested_actions
    assert action.type is ActionType.MANUAL_ONLY
    assert action.target.kind == "node" and action.target.name == "n3"
    assert "kubectl cordon n3" in " ".join(action.steps)
    assert any(s.startswith("kubectl drain n3") for s in action.steps)


def test_pod_alert_on_a_pod_of_the_dead_node() -> None:
    nodes, pods, events = _cluster()
    alert = make_alert("KubePodNotReady", namespace="shop", pod="orders-b")
    related = [make_alert("KubeNodeNotReady", node="n3")]
    ev = evidence(nodes=nodes, pods=pods, events=events, related=related)
    h = PATTERN.evaluate(context(alert, ev)).hypothesis
    assert h is not None and h.confidence >= 0.9
    assert h.affected_components[0] == "n3"
    assert "related_alerts" in h.evidence_refs


def test_not_ready_node_that_hosts_none_of_the_service_is_ruled_out() -> None:
    """Near miss: a node is NotReady, but the alerted service runs elsewhere."""
    nodes, _, events = _cluster()
    pods = [pod("search-a", "search", node="n1"), pod("search-b", "search", node="n2")]
    alert = make_alert("KubeDeploymentReplicasMismatch", namespace="shop", deployment="search")
    verdict = PATTERN.evaluate(context(alert, evidence(nodes=nodes, pods=pods, events=events)))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.05
    assert "host none of the alerted pods" in verdict.ruled_out.reason


def test_all_nodes_ready_is_ruled_out() -> None:
    pods = [pod("orders-b", "orders", node="n3", ready=False)]
    alert = make_alert("KubePodNotReady", namespace="shop", pod="orders-b")
    ev = evidence(nodes=[node("n1"), node("n3")], pods=pods)
    verdict = PATTERN.evaluate(context(alert, ev))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.2


async def test_bundles() -> None:
    pleg = PATTERN.evaluate(await bundle_context("node-not-ready-pleg-shop")).hypothesis
    assert pleg is not None and pleg.confidence >= 0.85
    assert pleg.affected_components[0] == "ip-10-42-3-17.eu-west-1.compute.internal"
    assert "KubeletNotReady" in pleg.cause
    multi = PATTERN.evaluate(await bundle_context("multi-alert-node-lost-ledger")).hypothesis
    assert multi is not None and multi.confidence >= 0.85
    assert multi.affected_components[:2] == [
        "ip-10-8-5-201.eu-central-1.compute.internal",
        "ledger",
    ]
    assert [a.type for a in multi.suggested_actions] == [ActionType.MANUAL_ONLY]
