"""A frontend alert whose cause is a backend: the investigation asks every alerting service
the same health questions, ranks them by how far their own metrics moved, and the report
names the backend from that ranking.

The bundle (scenarios/upstream-localized-catalog-frontend) has three alerting services; the
frontend's logs say only that upstream calls time out, without a host. The related alerts
list recommendations before catalog, so without the ranking the dependency named would be
recommendations: the test checks both ways.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from firstline.evaluation.scenarios import run_scenario
from firstline.graph.report import render_text
from firstline.patterns.registry import PatternRegistry
from firstline.scenarios.loader import load_bundle
from firstline.wiring.settings import Settings
from tests.conftest import SCENARIOS

BUNDLE = SCENARIOS / "upstream-localized-catalog-frontend"

pytestmark = pytest.mark.integration


def _settings(settings: Settings, tmp_path: Path, name: str) -> Settings:
    return settings.model_copy(
        update={
            "store": settings.store.model_copy(update={"data_dir": tmp_path / name}),
            "graph": settings.graph.model_copy(update={"verify_wait_seconds": 0.0}),
        }
    )


async def test_report_names_the_backend_from_the_ranking(
    settings: Settings, tmp_path: Path
) -> None:
    state = await run_scenario(
        _settings(settings, tmp_path, "with"), load_bundle(BUNDLE), PatternRegistry.load()
    )
    analysis = state.analyses[0]
    assert [r.service for r in analysis.localization][:1] == ["catalog"]
    assert analysis.localization[0].score > analysis.localization[-1].score
    top = analysis.top
    assert top is not None and top.pattern == "upstream_dependency_failure"
    assert top.affected_components[0] == "catalog"  # the cause first, then the caller
    assert any("localization ranks catalog first" in s for s in top.signals)
    report = render_text(state)
    assert "Services, by how far their own metrics moved:" in report
    assert "1. catalog: " in report
    assert state.decisions[0].outcome.value == "escalate"  # a dependency is a person's call


async def test_without_the_backends_metrics_the_ranking_cannot_name_it(
    settings: Settings, tmp_path: Path
) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(BUNDLE, copy)
    spec = yaml.safe_load((copy / "scenario.yaml").read_text())
    spec["metrics"] = {k: v for k, v in spec["metrics"].items() if not k.endswith("@catalog")}
    (copy / "scenario.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    state = await run_scenario(
        _settings(settings, tmp_path, "without"), load_bundle(copy), PatternRegistry.load()
    )
    analysis = state.analyses[0]
    assert "catalog" not in [r.service for r in analysis.localization]
    upstream = next(
        (h for h in analysis.hypotheses if h.pattern == "upstream_dependency_failure"), None
    )
    assert upstream is None or upstream.affected_components[:1] != ["catalog"]
