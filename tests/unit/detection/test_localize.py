from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firstline.detection.localize import Component, largest_z, load_components, localize
from firstline.detection.series import SeriesError
from firstline.detection.synthetic import make_incident


def test_origin_ranked_first_on_most_synthetic_incidents() -> None:
    hits = 0
    for seed in range(20):
        incident = make_incident(seed)
        ranking = localize(incident.components, incident.noticed)
        hits += ranking[0].component == incident.root
        assert ranking[0].metric is not None
        assert len(largest_z(incident.components, incident.noticed)) == len(ranking)
    assert hits >= 17


def test_quiet_components_score_zero_and_short_history_is_handled() -> None:
    t = np.arange(100) * 60.0
    calm = Component("calm", t, {"cpu": np.full(100, 5.0)})
    busy = Component("busy", t, {"cpu": np.r_[np.full(80, 5.0), np.full(20, 50.0)]})
    short = Component("short", t[:3], {"cpu": np.array([1.0, 2.0, 3.0])})
    ranking = localize([calm, busy, short], at=t[85], lookback=600)
    assert ranking[0].component == "busy"
    assert ranking[0].metric == "cpu" and ranking[0].onset == t[80]
    assert {s.component: s.score for s in ranking}["calm"] == 0.0


def test_directory_loading(tmp_path: Path) -> None:
    with pytest.raises(SeriesError, match=r"no \.csv or \.json files"):
        load_components(tmp_path)
    with pytest.raises(SeriesError, match="not a directory"):
        load_components(tmp_path / "missing")
    (tmp_path / "api.csv").write_text("timestamp,cpu,latency\n1,1,2\n2,1,3\n")
    (tmp_path / "db.csv").write_text(
        "timestamp,cpu\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,\n"
    )
    comps = load_components(tmp_path)
    assert [c.name for c in comps] == ["api", "db"] and set(comps[0].metrics) == {"cpu", "latency"}
