"""Developer aid: run triage, evidence gathering, the pattern engine and the decision rules
(mode auto) on scenario bundles, and compare with each bundle's expected outcome.

    .venv/bin/python scripts/patterncheck.py scenarios/            # all bundles
    .venv/bin/python scripts/patterncheck.py scenarios/some-bundle -v

The full graph (remediation, verification) runs in `firstline eval`; this is the quick loop.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from firstline.detection.detectors import get_detector
from firstline.domain.hypothesis import UNKNOWN
from firstline.graph.gathering import gather, scope_for
from firstline.patterns.registry import PatternRegistry
from firstline.policy.decision import DecisionInput, decide
from firstline.policy.schema import Mode, Policy
from firstline.policy.severity import triage_severity
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.rules import PatternReasoner
from firstline.scenarios.loader import discover, load_bundle
from firstline.scenarios.world import ReplayWorld
from firstline.sources.replay import ReplaySource


async def check(path: Path, registry: PatternRegistry, verbose: bool) -> bool:
    bundle = load_bundle(path)
    alert = bundle.primary_alert
    candidates = registry.candidates(alert)
    specific = [p for p in candidates if not p.universal and p.applies_to(alert)]
    severity, _ = triage_severity(alert, specific[0].default_severity if specific else None)
    source = ReplaySource(ReplayWorld(bundle))
    queries = registry.metric_queries(p.id for p in candidates)
    evidence = await gather(
        source,
        scope_for(alert, bundle.now, timedelta(hours=1)),
        queries,
        get_detector("robust_shift"),
    )
    analysis = PatternReasoner(registry).analyze_sync(
        ReasoningInput(
            alert=alert, severity=severity, candidates=[p.id for p in candidates], evidence=evidence
        )
    )
    policy = Policy(mode=Mode.AUTO)
    decision = decide(DecisionInput(alert=alert, severity=severity, analysis=analysis), policy)
    top = analysis.top
    predicted = top.pattern if top and top.confidence >= policy.confidence_threshold else UNKNOWN
    exp = bundle.spec.expected
    actions = {a.type for a in decision.actions}
    ok = (
        predicted == exp.pattern
        and decision.outcome == exp.decision
        and severity == exp.severity
        and not (actions & set(exp.forbidden_actions))
    )
    mark = "ok  " if ok else "FAIL"
    print(
        f"{mark} {bundle.id}: pattern {predicted} (exp {exp.pattern}) "
        f"conf {top.confidence if top else 0:.2f} sev {severity} (exp {exp.severity}) "
        f"decision {decision.outcome} [{decision.rule}] (exp {exp.decision}) "
        f"actions {sorted(a.value for a in actions)}"
    )
    if verbose or not ok:
        for h in analysis.hypotheses:
            print(f"      hyp {h.pattern} {h.confidence:.2f}: {'; '.join(h.signals)}")
        for r in analysis.ruled_out[:6]:
            print(f"      out {r.pattern} {r.confidence:.2f}: {r.reason}")
    return ok


async def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    verbose = "-v" in sys.argv
    registry = PatternRegistry.load()
    paths = discover(Path(args[0] if args else "scenarios"))
    results = [await check(p, registry, verbose) for p in paths]
    print(f"{sum(results)}/{len(results)} as expected")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
