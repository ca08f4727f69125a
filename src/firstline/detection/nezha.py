"""Nezha fault-injection cases (metrics only), as the shared development set lays them out:
`<system>/<case>/` with one CSV per service and `incident.json`, `<case>.truth.json` beside it.
The truth is read only to score a ranking, never by the methods."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from firstline.detection.localize import Component, load_components


@dataclass(frozen=True)
class Case:
    case_id: str
    system: str
    at: float
    components: tuple[Component, ...]
    root_cause: str
    fault_type: str
    metric_visible: bool


def load_cases(root: Path) -> list[Case]:
    """Every case folder with a truth file, sorted by system then id."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root} not found: is it the nezha-dev folder?")
    out = []
    for truth_path in sorted(root.glob("*/*.truth.json")):
        folder = truth_path.with_name(truth_path.name.removesuffix(".truth.json"))
        incident = json.loads((folder / "incident.json").read_text())
        truth = json.loads(truth_path.read_text())
        out.append(
            Case(
                case_id=truth["case_id"],
                system=truth["system"],
                at=float(incident["at"]),
                components=tuple(load_components(folder, suffixes=(".csv",))),
                root_cause=truth["root_cause_service"],
                fault_type=truth["fault_type"],
                metric_visible=bool(truth["metric_visible"]),
            )
        )
    return out
