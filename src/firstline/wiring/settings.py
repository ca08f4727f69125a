"""One settings object, grouped, every field defaulted and documented.

Sources, in order of precedence: keyword arguments, environment (FIRSTLINE_*, nested with
`__`, e.g. FIRSTLINE_GRAPH__MAX_VERIFY_ATTEMPTS=3), the settings file (YAML; path from
FIRSTLINE_CONFIG or `--config`), defaults. Nothing reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# Each package owns its settings model, next to its code; this module only composes them.
from firstline.actions.settings import ActionsSettings
from firstline.detection.settings import DetectionSettings
from firstline.errors import InvalidInput
from firstline.graph.settings import GraphSettings
from firstline.notify.settings import NotifySettings
from firstline.reasoning.llm.settings import ReasoningSettings
from firstline.reporting.settings import ReportSettings
from firstline.service.settings import ServeSettings
from firstline.sources.settings import SourcesSettings
from firstline.store.settings import StoreSettings
from firstline.support.logging_config import LogSettings
from firstline.support.yamlfile import load_yaml_mapping


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FIRSTLINE_", env_nested_delimiter="__", extra="forbid"
    )

    policy_file: Path | None = Field(
        default=None, description="Policy YAML; defaults apply when unset (mode: approve)."
    )
    patterns_dir: Path | None = Field(
        default=None, description="Extra pattern modules (*.py, each defining PATTERN)."
    )
    store: StoreSettings = Field(default_factory=StoreSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    actions: ActionsSettings = Field(default_factory=ActionsSettings)
    reasoning: ReasoningSettings = Field(default_factory=ReasoningSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings


class SettingsError(InvalidInput, ValueError):
    """The settings file, environment or overrides do not validate."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from an optional YAML file; environment and overrides win over it."""
    from_file: dict[str, Any] = {}
    if config_file is not None:
        from_file = load_yaml_mapping(config_file, SettingsError, "settings file")
    try:
        env_only = Settings()
        merged = _deep_merge(from_file, env_only.model_dump(exclude_unset=True))
        return Settings.model_validate(_deep_merge(merged, overrides))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        source = f"settings file {config_file}" if config_file else "settings"
        raise SettingsError(f"{source}: {where}: {err['msg']}") from exc


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
