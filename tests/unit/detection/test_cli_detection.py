"""`detect` and `localize` on a typer app of their own (cli.py registers them the same way)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from firstline.cli.detection import register
from firstline.detection.synthetic import make_incident

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def _root() -> None:
    """Test app."""


register(app)
runner = CliRunner()


def nab_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    values = 10 + rng.normal(0, 1, 400)
    values[300] = 40
    path = tmp_path / "series.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp", "value"])
        for i, v in enumerate(values):
            out.writerow([f"2024-01-01 {i // 60:02d}:{i % 60:02d}:00", "" if i == 50 else v])
    return path


def test_detect_writes_one_score_per_row(tmp_path: Path) -> None:
    src, out = nab_file(tmp_path), tmp_path / "out.csv"
    result = runner.invoke(app, ["detect", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 400 and rows[50]["value"] == "" and float(rows[50]["anomaly_score"]) == 0
    assert float(rows[300]["anomaly_score"]) >= 0.5
    assert rows[0]["timestamp"] == "2024-01-01 00:00:00"


def test_detect_json_and_other_detectors(tmp_path: Path) -> None:
    src = nab_file(tmp_path)
    result = runner.invoke(app, ["detect", str(src), "--json", "--detector", "windowed_gaussian"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["rows"] == 400 and payload["gaps"] == 1 and payload["windows"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["detect", "{tmp}/missing.csv"], "No such file"),
        (["detect", "{tmp}/empty.csv"], "empty file"),
        (["detect", "{tmp}/two.csv"], "expected timestamp,value"),
        (["detect", "{tmp}/empty.csv", "-d", "bogus"], "choose from"),
        (["localize", "{tmp}", "--at", "soon"], "--at:"),
        (["localize", "{tmp}/missing", "--at", "0"], "not a directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "two.csv").write_text("timestamp,a,b\n1,1,1\n2,2,2\n")
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


def test_localize_ranks_the_origin(tmp_path: Path) -> None:
    incident = make_incident(3)
    for comp in incident.components:
        with (tmp_path / f"{comp.name}.csv").open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["timestamp", *comp.metrics])
            for i, t in enumerate(comp.timestamps):
                out.writerow([int(t), *(float(v[i]) for v in comp.metrics.values())])
    timing = ["--method", "timing"]
    result = runner.invoke(
        app, ["localize", str(tmp_path), "--at", str(int(incident.noticed)), "--json", *timing]
    )
    assert result.exit_code == 0, result.output
    ranking = json.loads(result.stdout)["ranking"]
    assert ranking[0]["component"] == incident.root and ranking[0]["metric"]
    table = runner.invoke(
        app, ["localize", str(tmp_path), "--at", str(int(incident.noticed)), *timing]
    )
    assert table.exit_code == 0 and incident.root in table.stdout


def test_localize_ranking_names_the_component_whose_own_metric_moved(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    t0 = 1_700_000_000
    rows = range(70)
    # db's CPU saturates at minute 60; web's latency follows and its traffic drops
    columns = {
        "db": {"cpu": [0.2 + (0.7 if i >= 60 else 0) + rng.normal(0, 0.05) for i in rows]},
        "web": {
            "latency": [0.1 + (0.02 if i >= 61 else 0) + rng.normal(0, 0.002) for i in rows],
            "request_rate": [100 - (40 if i >= 61 else 0) + rng.normal(0, 2) for i in rows],
        },
    }
    for name, metrics in columns.items():
        with (tmp_path / f"{name}.csv").open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["timestamp", *metrics])
            for i in rows:
                out.writerow([t0 + 60 * i, *(v[i] for v in metrics.values())])
    result = runner.invoke(app, ["localize", str(tmp_path), "--at", str(t0 + 3600), "--json"])
    assert result.exit_code == 0, result.output
    top = json.loads(result.stdout)["ranking"][0]
    assert top["component"] == "db" and top["metric"] == "cpu"
    assert top["onset"] == "2023-11-14T23:13:20Z"  # t0 + 60 minutes
    bad = runner.invoke(app, ["localize", str(tmp_path), "--at", "0", "--method", "x"])
    assert bad.exit_code == 2 and "--method" in bad.stderr
