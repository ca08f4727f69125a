"""Evidence for a bundled scenario, gathered the way the graph gathers it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from firstline.detection.detectors import get_detector
from firstline.domain.evidence import EvidenceSet
from firstline.graph.gathering import gather, scope_for
from firstline.patterns.registry import PatternRegistry
from firstline.scenarios.loader import ScenarioBundle, load_bundle
from firstline.scenarios.world import ReplayWorld
from firstline.sources.replay import ReplaySource

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


async def replay_evidence(
    name: str, registry: PatternRegistry, *, every_pattern: bool = False
) -> tuple[ScenarioBundle, EvidenceSet]:
    """Replay scenarios/<name>; metric queries of the alert's candidate patterns, or of
    every pattern when `every_pattern` (to see how a pattern fares on others' bundles)."""
    bundle = load_bundle(SCENARIOS / name)
    alert = bundle.primary_alert
    ids = registry.ids() if every_pattern else [p.id for p in registry.candidates(alert)]
    evidence = await gather(
        ReplaySource(ReplayWorld(bundle)),
        scope_for(alert, bundle.now, timedelta(hours=1)),
        registry.metric_queries(ids),
        get_detector("robust_shift"),
    )
    return bundle, evidence
