"""analyze: the reasoner ranks root-cause hypotheses. A failing reasoner becomes an empty
analysis (and so an escalation), never a crash."""

from __future__ import annotations

from firstline.domain.alert import Severity
from firstline.domain.evidence import EvidenceSet
from firstline.domain.hypothesis import Analysis
from firstline.graph.context import GraphContext
from firstline.graph.recording import Note, Update
from firstline.graph.state import IncidentState
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.llm.outcome import ReportingReasoner
from firstline.reasoning.llm.usage import Usage


async def analyze_evidence(state: IncidentState, ctx: GraphContext) -> Update:
    request = ReasoningInput(
        alert=state.alert,
        severity=state.severity or Severity.MEDIUM,
        candidates=state.candidates,
        evidence=state.evidence or EvidenceSet(),
        failed_attempts=state.failed_attempts,
    )
    notes: list[Note] = []
    usage = state.llm_usage
    try:
        if isinstance(ctx.reasoner, ReportingReasoner):
            # model-backed reasoners also report fallbacks and token/cost usage
            report = await ctx.reasoner.analyze_reported(request, state.incident_id)
            analysis = report.analysis
            notes.extend(report.notes)
            if report.usage is not None:
                usage = report.usage + (usage or Usage())
        else:
            analysis = await ctx.reasoner.analyze(request)
    except Exception as exc:  # a reasoner is replaceable code; its failure must not end the run
        analysis = Analysis(reasoner=ctx.reasoner.name)
        notes.append(("reasoner failed", f"{type(exc).__name__}: {exc}"))
    top = analysis.top
    if top is None:
        notes.append(("no hypothesis", f"{len(analysis.ruled_out)} patterns ruled out"))
    else:
        notes.append((f"top hypothesis {top.pattern} ({top.confidence:.2f})", top.cause))
        notes.extend(
            (f"also considered {h.pattern} ({h.confidence:.2f})", h.cause)
            for h in analysis.hypotheses[1:3]
        )
    return {"analysis": analysis, "analyses": [analysis], "notes": notes, "llm_usage": usage}
