"""build_graph(deps): every add_node and add_edge, in one place."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from firstline.graph.deps import GraphDeps
from firstline.graph.nodes.analyze import analyze_evidence
from firstline.graph.nodes.conclude import conclude_incident, escalate_incident, resolve_incident
from firstline.graph.nodes.decide import decide_outcome
from firstline.graph.nodes.gather_evidence import gather_evidence
from firstline.graph.nodes.remediate import remediate
from firstline.graph.nodes.request_approval import request_approval
from firstline.graph.nodes.triage import triage_alert
from firstline.graph.nodes.verify import verify_fix
from firstline.graph.recording import recorded
from firstline.graph.routing import (
    make_verify_router,
    route_after_approval,
    route_after_decide,
)
from firstline.graph.state import IncidentState

NODES = {
    "triage": triage_alert,
    "gather_evidence": gather_evidence,
    "analyze": analyze_evidence,
    "decide": decide_outcome,
    "request_approval": request_approval,
    "remediate": remediate,
    "verify": verify_fix,
    "resolve": resolve_incident,
    "escalate": escalate_incident,
    "conclude": conclude_incident,
}

IncidentGraph = CompiledStateGraph[IncidentState, Any, IncidentState, IncidentState]


def build_graph(deps: GraphDeps, checkpointer: BaseCheckpointSaver[Any] | None) -> IncidentGraph:
    graph = StateGraph(IncidentState)
    for name, node in NODES.items():
        graph.add_node(name, recorded(name, node, deps))  # type: ignore[call-overload]
    graph.add_edge(START, "triage")
    graph.add_edge("triage", "gather_evidence")
    graph.add_edge("gather_evidence", "analyze")
    graph.add_edge("analyze", "decide")
    graph.add_conditional_edges("decide", route_after_decide)
    graph.add_conditional_edges("request_approval", route_after_approval)
    graph.add_edge("remediate", "verify")
    graph.add_conditional_edges("verify", make_verify_router(deps.settings.max_verify_attempts))
    for terminal in ("resolve", "escalate", "conclude"):
        graph.add_edge(terminal, END)
    return graph.compile(checkpointer=checkpointer)
