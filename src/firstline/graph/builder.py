"""build_graph(checkpointer): every add_node and add_edge, in one place.

The graph is compiled without any dependency: nodes and the verify router read theirs
from the run's context (graph/context.py), which the runner passes on every call.
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from firstline.graph.context import GraphContext
from firstline.graph.nodes.analyze import analyze_evidence
from firstline.graph.nodes.conclude import conclude_incident, escalate_incident, resolve_incident
from firstline.graph.nodes.decide import decide_outcome
from firstline.graph.nodes.gather_evidence import gather_evidence
from firstline.graph.nodes.remediate import remediate
from firstline.graph.nodes.request_approval import request_approval
from firstline.graph.nodes.triage import triage_alert
from firstline.graph.nodes.verify import verify_fix
from firstline.graph.recording import context_of, recorded
from firstline.graph.routing import (
    AfterVerify,
    route_after_approval,
    route_after_decide,
    route_after_verify,
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

IncidentGraph = CompiledStateGraph[IncidentState, GraphContext, IncidentState, IncidentState]


def _after_verify(state: IncidentState, runtime: Runtime[GraphContext]) -> AfterVerify:
    """The verify router, bounded by the setting of the run's context."""
    return route_after_verify(state, context_of(runtime).settings.max_verify_attempts)


def build_graph(checkpointer: BaseCheckpointSaver[Any] | None) -> IncidentGraph:
    graph = StateGraph(IncidentState, context_schema=GraphContext)
    for name, node in NODES.items():
        graph.add_node(name, recorded(name, node))
    graph.add_edge(START, "triage")
    graph.add_edge("triage", "gather_evidence")
    graph.add_edge("gather_evidence", "analyze")
    graph.add_edge("analyze", "decide")
    graph.add_conditional_edges("decide", route_after_decide)
    graph.add_conditional_edges("request_approval", route_after_approval)
    graph.add_edge("remediate", "verify")
    graph.add_conditional_edges("verify", _after_verify)
    for terminal in ("resolve", "escalate", "conclude"):
        graph.add_edge(terminal, END)
    return graph.compile(checkpointer=checkpointer)
