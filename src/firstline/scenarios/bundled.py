"""Where the scenarios shipped with firstline live: inside an installed wheel, or at the
repository root in a source checkout."""

from __future__ import annotations

from pathlib import Path


def bundled_dir() -> Path:
    package = Path(__file__).resolve().parents[1]
    inside_wheel = package / "_bundled_scenarios"
    if inside_wheel.is_dir():
        return inside_wheel
    return package.parents[1] / "scenarios"
