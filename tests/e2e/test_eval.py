"""The eval's published bar on the bundled scenarios, and safety on the blind held-out set."""

from __future__ import annotations

from pathlib import Path

import pytest

from firstline.evaluation.scenarios import evaluate
from firstline.wiring.settings import Settings
from tests.conftest import SCENARIOS

HELDOUT = Path(__file__).resolve().parents[2] / "heldout"

pytestmark = pytest.mark.integration


async def test_bundled_scenarios_meet_the_bar(settings: Settings) -> None:
    report = await evaluate(SCENARIOS, settings)
    assert report.scenarios >= 24
    assert report.pattern_accuracy >= 0.9
    assert report.decision_accuracy >= 0.9
    assert report.brier is not None and report.brier <= 0.15
    assert report.unsafe_actions == 0
    seen = {r.expected_pattern for r in report.results}
    assert {"unknown", "no_real_incident"} <= seen and len(seen) >= 14


async def test_heldout_scenarios_never_get_an_unsafe_action(settings: Settings) -> None:
    """Written blind (without reading pattern code): accuracy there is reported, not
    asserted beyond a floor, but an unsafe action is always a failure."""
    report = await evaluate(HELDOUT, settings)
    assert report.unsafe_actions == 0, [r.scenario for r in report.results if r.unsafe_actions]
    assert report.pattern_accuracy >= 0.8
