"""Loads a scenario folder and checks it, with errors that name the file and the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from firstline.domain.alert import Alert, AlertStatus
from firstline.errors import InvalidInput
from firstline.intake.alertmanager import load_webhook_file
from firstline.intake.errors import AlertParseError
from firstline.scenarios.format import ScenarioSpec
from firstline.scenarios.times import resolve_time
from firstline.support.yamlfile import load_yaml_mapping

SCENARIO_FILE = "scenario.yaml"
ALERT_FILE = "alert.json"


class ScenarioError(InvalidInput, ValueError):
    """A bundle is missing or malformed. The message says where."""


@dataclass(frozen=True)
class ScenarioBundle:
    id: str
    path: Path
    spec: ScenarioSpec
    alerts: list[Alert]
    now: datetime

    @property
    def primary_alert(self) -> Alert:
        return primary_of(self.alerts)


def primary_of(alerts: list[Alert]) -> Alert:
    """The first firing alert (or the first alert); the others are related evidence."""
    firing = [a for a in alerts if a.status is AlertStatus.FIRING]
    return (firing or alerts)[0]


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "top level"
    return f"{where}: {err['msg']}"


def load_bundle(path: Path) -> ScenarioBundle:
    if not path.exists():
        raise ScenarioError(f"scenario folder {path} does not exist")
    if not path.is_dir():
        raise ScenarioError(f"{path} is not a folder (a scenario is a folder with {SCENARIO_FILE})")
    spec_path = path / SCENARIO_FILE
    if not spec_path.is_file():
        raise ScenarioError(f"{path} has no {SCENARIO_FILE}")
    raw = load_yaml_mapping(spec_path, ScenarioError, "scenario file")
    try:
        spec = ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(f"{spec_path}: {_validation_message(exc)}") from exc
    try:
        alerts = load_webhook_file(path / ALERT_FILE)
    except AlertParseError as exc:
        raise ScenarioError(str(exc)) from exc
    default_now = primary_of(alerts).starts_at + timedelta(minutes=5)
    try:
        now = resolve_time(spec.now, default_now) if spec.now is not None else default_now
    except ValueError as exc:
        raise ScenarioError(f"{spec_path}: now: {exc}") from exc
    bundle = ScenarioBundle(id=path.name, path=path, spec=spec, alerts=alerts, now=now)
    _check_renders(bundle, spec_path)
    return bundle


def _check_renders(bundle: ScenarioBundle, spec_path: Path) -> None:
    """Render the whole world once so a bad time or series fails at load, not mid-incident."""
    from firstline.scenarios.world import ReplayWorld  # local: world imports this module

    try:
        world = ReplayWorld(bundle)
        for effect in bundle.spec.effects:
            world.preview(effect.then)
    except ValueError as exc:
        raise ScenarioError(f"{spec_path}: {exc}") from exc


def discover(root: Path) -> list[Path]:
    """Scenario folders under `root` (or `root` itself if it is one), sorted by name."""
    if not root.exists():
        raise ScenarioError(f"scenario folder {root} does not exist")
    if (root / SCENARIO_FILE).is_file():
        return [root]
    found = sorted(p.parent for p in root.glob(f"*/{SCENARIO_FILE}"))
    if not found:
        raise ScenarioError(f"no scenarios under {root} (each needs a {SCENARIO_FILE})")
    return found
