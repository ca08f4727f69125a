"""How a model's verdict may change an analysis. This is where the guard rails are.

hybrid: hypotheses, confidences, evidence and actions are the pattern engine's. The model
  may only (a) reorder hypotheses whose scores are within `margin` of each other, and for the
  top position only among hypotheses that lead the decision engine to the same decision
  (same action signatures, same side of the confidence threshold, neither "no real
  incident"); (b) attach an explanation, labelled unverified; (c) add one model-only
  hypothesis, without actions, capped below `cap` and below every engine hypothesis.
  So the decision is a function of the pattern engine's result alone.
llm: the model's hypotheses and confidences count, but a hypothesis without a valid citation
  is capped at `cap`, and actions must be catalog types on objects present in the evidence.
  Those the pattern engine proposed keep the engine's parameters and risk; a few
  parameter-free types may be built fresh at the catalog's risk. The decision engine and
  policy then judge them like any other.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.hypothesis import NO_INCIDENT, Analysis, RootCauseHypothesis
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.llm.output import ModelHypothesis, ModelVerdict, ProposedAction

MODEL_PATTERN = "llm"
Note = tuple[str, str]

FRESH_ACTIONS: dict[ActionType, frozenset[str]] = {
    ActionType.RESTART: frozenset({"deployment", "statefulset"}),
    ActionType.ROLLBACK: frozenset({"deployment"}),
    ActionType.PAUSE_ROLLOUT: frozenset({"deployment"}),
    ActionType.DELETE_POD: frozenset({"pod"}),
    ActionType.CORDON_NODE: frozenset({"node"}),
}
"""Types a model may propose on its own: no parameters a model could get dangerously wrong."""


class Combined(BaseModel):
    model_config = ConfigDict(frozen=True)

    analysis: Analysis
    notes: list[Note] = []


def clip(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _signature(h: RootCauseHypothesis) -> list[tuple[str, str, str, str, bool]]:
    return sorted(
        (
            a.type.value,
            str(a.target),
            repr(sorted(a.parameters.items())),
            a.risk.value,
            a.requires_approval,
        )
        for a in h.suggested_actions
    )


def _same_decision(a: RootCauseHypothesis, b: RootCauseHypothesis, threshold: float) -> bool:
    if a.pattern == b.pattern:
        return True
    if NO_INCIDENT in (a.pattern, b.pattern):
        return False
    same_side = (a.confidence >= threshold) == (b.confidence >= threshold)
    return same_side and _signature(a) == _signature(b)


def _model_ranks(verdict: ModelVerdict) -> dict[str, int]:
    ranks: dict[str, int] = {}
    for i, h in enumerate(verdict.hypotheses):
        ranks.setdefault(h.pattern, i)
    return ranks


def rerank(
    hypotheses: list[RootCauseHypothesis], ranks: dict[str, int], margin: float, threshold: float
) -> list[RootCauseHypothesis]:
    """Greedy: each position goes to the model's favourite among the remaining hypotheses
    within `margin` of the best remaining one (for position 0, only decision-equivalent
    ones). Ties and unranked patterns keep the engine's order."""
    remaining = sorted(hypotheses, key=lambda h: (-h.confidence, h.pattern))
    ordered: list[RootCauseHypothesis] = []
    while remaining:
        head = remaining[0]
        block = [h for h in remaining if head.confidence - h.confidence <= margin + 1e-9]
        if not ordered:
            block = [h for h in block if _same_decision(h, head, threshold)]
        chosen = min(block, key=lambda h: (ranks.get(h.pattern, len(ranks)), remaining.index(h)))
        ordered.append(chosen)
        remaining.remove(chosen)
    return ordered


def _explained(h: RootCauseHypothesis, said: ModelHypothesis | None) -> RootCauseHypothesis:
    if said is None or not said.cause.strip():
        return h
    note = f"model explanation (unverified): {clip(said.cause)}"
    return h.model_copy(update={"signals": [*h.signals, note]})


def combine_hybrid(
    base: Analysis,
    verdict: ModelVerdict,
    *,
    known_refs: set[str],
    margin: float,
    cap: float,
    threshold: float,
) -> Combined:
    said = {h.pattern: h for h in reversed(verdict.hypotheses)}  # first mention wins
    ordered = rerank(list(base.hypotheses), _model_ranks(verdict), margin, threshold)
    hypotheses = [_explained(h, said.get(h.pattern)) for h in ordered]
    notes: list[Note] = []
    if ordered and base.top is not None and ordered[0].pattern != base.top.pattern:
        notes.append(
            (
                "llm reordered near-tied hypotheses",
                f"{ordered[0].pattern} before {base.top.pattern}",
            )
        )
    engine = {h.pattern for h in base.hypotheses}
    extra = next((h for h in verdict.hypotheses if h.pattern not in engine), None)
    if extra is not None and extra.pattern in {r.pattern for r in base.ruled_out}:
        notes.append(("llm hypothesis ignored", f"{extra.pattern} was ruled out by its pattern"))
    elif extra is not None and extra.cause.strip():
        ceiling = min([cap, *(h.confidence for h in base.hypotheses)])
        hypotheses.append(
            RootCauseHypothesis(
                pattern=MODEL_PATTERN,
                cause=clip(extra.cause),
                confidence=round(min(extra.confidence, ceiling), 3),
                evidence_refs=[r for r in extra.evidence if r in known_refs],
                signals=["model-only hypothesis (unverified): no pattern supports it"],
                verified=False,
                basis="model",
            )
        )
        notes.append(("llm added a hypothesis", clip(extra.cause, 160)))
    return Combined(
        analysis=Analysis(reasoner="hybrid", hypotheses=hypotheses, ruled_out=base.ruled_out),
        notes=notes,
    )


class _Scope:
    """The objects an action may touch: the ones the evidence shows, in the alert's namespace."""

    def __init__(self, request: ReasoningInput) -> None:
        ev = request.evidence
        self.namespace = request.alert.namespace
        self.deployments = {(d.namespace, d.name) for d in ev.deployments()}
        if request.alert.service and self.namespace:
            self.deployments.add((self.namespace, request.alert.service))
        self.pods = {(p.namespace, p.name) for p in ev.pods()}
        self.nodes = {n.name for n in ev.nodes()}
        self.previous_revision = {
            (d.namespace, d.name): d.previous.revision for d in ev.deployments() if d.previous
        }

    def contains(self, target: Target) -> bool:
        if target.kind == "node":
            return target.name in self.nodes
        if target.namespace != self.namespace:
            return False
        key = (target.namespace, target.name)
        if target.kind == "pod":
            return key in self.pods
        return key in self.deployments


def _target(proposed: ProposedAction, namespace: str | None) -> Target:
    kind = proposed.target_kind.strip().lower()
    if kind == "node":
        return Target(kind="node", name=proposed.target_name.strip())
    return Target(
        kind=kind, name=proposed.target_name.strip(), namespace=proposed.namespace or namespace
    )


def vet_action(
    proposed: ProposedAction, base: Analysis, scope: _Scope, cause: str
) -> tuple[RemediationAction | None, str]:
    """The action firstline would carry, or None and why it was dropped."""
    try:
        kind = ActionType(proposed.type)
    except ValueError:
        return None, f"{proposed.type!r} is not in the action catalog"
    target = _target(proposed, scope.namespace)
    for h in base.hypotheses:
        for known in h.suggested_actions:
            if known.type is kind and str(known.target) == str(target):
                return known, ""
    if kind not in FRESH_ACTIONS or target.kind not in FRESH_ACTIONS[kind]:
        return None, f"{kind.value} on {target.kind} needs parameters only a pattern can set"
    if not scope.contains(target):
        return None, f"{target} does not appear in the evidence"
    parameters: dict[str, str | int | float | bool] = {}
    if kind is ActionType.ROLLBACK:
        previous = scope.previous_revision.get((target.namespace or "", target.name))
        if previous is None:
            return None, f"{target} has no previous revision to roll back to"
        parameters["to_revision"] = previous
    rationale = f"proposed by the model: {clip(cause, 160)}"
    return make_action(kind, target, rationale=rationale, parameters=parameters), ""


def analysis_from_verdict(
    verdict: ModelVerdict,
    base: Analysis,
    request: ReasoningInput,
    *,
    known_refs: set[str],
    cap: float,
) -> Combined:
    scope = _Scope(request)
    candidates = set(request.candidates) | {h.pattern for h in base.hypotheses}
    failed = {a.pattern for a in request.failed_attempts}
    engine = {h.pattern: h for h in base.hypotheses}
    notes: list[Note] = []
    hypotheses: dict[str, RootCauseHypothesis] = {}
    for said in verdict.hypotheses[:3]:
        pattern = said.pattern if said.pattern in candidates else MODEL_PATTERN
        if pattern in failed or pattern in hypotheses:
            continue
        refs = [r for r in said.evidence if r in known_refs]
        confidence = said.confidence if refs else min(said.confidence, cap)
        if pattern == NO_INCIDENT:
            # dismissing silences an incident: never more sure of "noise" than the engine is
            noise = engine.get(NO_INCIDENT)
            confidence = min(confidence, noise.confidence if noise else cap)
        actions: list[RemediationAction] = []
        for proposed in said.actions[:3]:
            action, why = vet_action(proposed, base, scope, said.cause)
            if action is None:
                notes.append(("llm action dropped", clip(why, 200)))
            elif action not in actions:
                actions.append(action)
        same = engine.get(pattern)
        components = (
            list(same.affected_components)
            if same
            else [a.target.name for a in actions] or [request.alert.service or "unknown"]
        )
        hypotheses[pattern] = RootCauseHypothesis(
            pattern=pattern,
            cause=clip(said.cause or f"{pattern} (no explanation given)"),
            confidence=round(confidence, 3),
            evidence_refs=refs,
            affected_components=components,
            suggested_actions=actions,
            signals=[
                "model hypothesis: confidence is the model's"
                + ("" if refs else f", capped at {cap:.2f} for lack of a valid citation")
            ],
        )
    ranked = sorted(hypotheses.values(), key=lambda h: (-h.confidence, h.pattern))
    return Combined(
        analysis=Analysis(reasoner="llm", hypotheses=ranked, ruled_out=base.ruled_out),
        notes=notes,
    )
