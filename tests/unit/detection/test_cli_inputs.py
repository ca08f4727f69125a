"""`detect` and `localize` read the JSON a Prometheus range query returns, and report progress
on long input on stderr (stdout stays the result)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from firstline.cli import detecting as cli_detection
from firstline.cli.detection import register
from firstline.detection.inputs import read_input
from firstline.detection.series import SeriesError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def _root() -> None:
    """Test app."""


register(app)
runner = CliRunner()
T0 = 1_700_000_000


def matrix(series: dict[str, list[tuple[float, str]]], name: str = "cpu") -> dict[str, object]:
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"__name__": name, "pod": pod}, "values": [[t, v] for t, v in pts]}
                for pod, pts in series.items()
            ],
        },
    }


def spiky(n: int = 300, at: int = 250, seed: int = 0) -> list[tuple[float, str]]:
    values = 10 + np.random.default_rng(seed).normal(0, 1, n)
    values[at] = 60
    return [(T0 + 15 * i, f"{v:.4f}") for i, v in enumerate(values)]


def test_detect_reads_a_range_query(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text(json.dumps(matrix({"api-1": spiky()})))
    result = runner.invoke(app, ["detect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rows"] == 300 and payload["series"] == 'cpu{pod="api-1"}'
    spike = "2023-11-14T23:15:50Z"  # T0 + 250 samples of 15 s
    assert any(w["start"] <= spike <= w["end"] for w in payload["windows"])


def test_several_series_need_a_choice_and_are_aligned(tmp_path: Path) -> None:
    other = [(t + 5, v) for t, v in spiky(seed=1)[:200]]  # scraped 5 s later, stops early
    path = tmp_path / "q.json"
    path.write_text(json.dumps(matrix({"api-1": spiky(), "api-2": other})))
    table = read_input(path)
    assert len(table.timestamps) == 500  # the union of both series' sample times
    assert np.isnan(table.columns['cpu{pod="api-1"}'][1])  # api-1 has no sample at T0+5
    refused = runner.invoke(app, ["detect", str(path)])
    assert refused.exit_code == 2 and "--series" in refused.stderr
    chosen = runner.invoke(app, ["detect", str(path), "--series", "api-2", "--json"])
    assert chosen.exit_code == 0 and json.loads(chosen.stdout)["gaps"] == 300


def test_infinities_from_prometheus_are_gaps(tmp_path: Path) -> None:
    points = spiky()
    points[10] = (points[10][0], "+Inf")
    points[11] = (points[11][0], "NaN")
    path = tmp_path / "q.json"
    path.write_text(json.dumps(matrix({"a": points})))
    assert np.isnan(read_input(path).columns['cpu{pod="a"}'][10:12]).all()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"status": "error", "error": "bad query"}, "bad query"),
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, "matrix"),
        ({"status": "success", "data": {"resultType": "matrix", "result": []}}, "no series"),
        (matrix({"a": [(T0, "1"), (T0 + 15, "x")]}), "not a number"),
    ],
)
def test_bad_responses_are_one_line_errors(
    tmp_path: Path, payload: dict[str, object], message: str
) -> None:
    path = tmp_path / "q.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(SeriesError, match=message):
        read_input(path)
    result = runner.invoke(app, ["detect", str(path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


def test_localize_reads_json_per_component(tmp_path: Path) -> None:
    quiet = [(T0 + 60 * i, "5") for i in range(100)]
    moved = [(T0 + 60 * i, "5" if i < 80 else "50") for i in range(100)]
    (tmp_path / "db.json").write_text(json.dumps(matrix({"db-0": moved})))
    (tmp_path / "web.json").write_text(json.dumps(matrix({"web-0": quiet})))
    result = runner.invoke(app, ["localize", str(tmp_path), "--at", str(T0 + 60 * 85), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ranking"][0]["component"] == "db"


def test_progress_on_long_input_goes_to_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_detection, "PROGRESS_ROWS", 100)
    monkeypatch.setattr(cli_detection, "CHUNK", 100)
    path = tmp_path / "q.json"
    path.write_text(json.dumps(matrix({"a": spiky()})))
    result = runner.invoke(app, ["detect", str(path), "--json"])
    assert result.exit_code == 0
    assert "scored 100/300 rows" in result.stderr and "scored 300/300 rows" in result.stderr
    chunked = json.loads(result.stdout)["windows"]
    monkeypatch.setattr(cli_detection, "PROGRESS_ROWS", 10**9)
    whole = runner.invoke(app, ["detect", str(path), "--json"])
    assert json.loads(whole.stdout)["windows"] == chunked  # chunks score as one call does
    silent = runner.invoke(app, ["detect", str(path), "--json", "--quiet"])
    assert "scored" not in silent.stderr
