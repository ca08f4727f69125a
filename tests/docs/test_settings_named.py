"""Every setting the docs name exists in the settings model: `FIRSTLINE_...` variables,
dotted keys in inline code (`store.retention_days`), and the settings files they show."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from firstline.wiring.settings import Settings, load_settings
from tests.docs.commands import cli_root
from tests.docs.markdown import ROOT, blocks, doc_files, inline_code

_ENV_VAR = re.compile(r"\b_?FIRSTLINE_[A-Z0-9_]*[A-Z0-9]")
_FILE_SUFFIX = re.compile(r"\.(py|ya?ml|md|json|sqlite|csv|txt|sh)$")
# where a variable that is not a setting can still be read: by firstline, its benchmarks
# and its test services (`FIRSTLINE_KILL_SWITCH`, `FIRSTLINE_NAB_DATA`, ...)
_READERS = ("src", "benchmarks", "tests", "Makefile", "deploy")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _is_mapping(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_mapping(arg) for arg in typing.get_args(annotation))
    return origin is dict or annotation is dict


def _field(model: type[BaseModel], name: str) -> Any | None:
    fields = {n.lower(): f for n, f in model.model_fields.items()}
    return fields.get(name.lower())


def setting_exists(parts: list[str]) -> bool:
    """Whether `a.b.c` is a path into the settings: through nested models, with any key
    below a mapping (`serve.webhooks.<vendor>` is a model, `notify.slack.x` must exist)."""
    models: list[type[BaseModel]] = [Settings]
    for index, part in enumerate(parts):
        fields = [f for m in models if (f := _field(m, part)) is not None]
        if not fields:
            return False
        annotation = fields[0].annotation
        if _is_mapping(annotation):
            return True
        models = _models_in(annotation)
        if not models:
            return index == len(parts) - 1
    return True


def _env_vars() -> Iterator[tuple[Path, int, str]]:
    for doc in doc_files():
        for number, text in enumerate(doc.read_text().splitlines(), start=1):
            for name in _ENV_VAR.findall(text):
                yield doc, number, name


def _read_somewhere(name: str) -> bool:
    for reader in _READERS:
        path = ROOT / reader
        files = [path] if path.is_file() else path.rglob("*")
        for file in files:
            readable = file.suffix in {".py", ".yaml", ""} and file.is_file()
            if readable and name in file.read_text(errors="replace"):
                return True
    return False


def _cli_env_vars() -> set[str]:
    return {
        v
        for p in cli_root().params
        for v in ([p.envvar] if isinstance(p.envvar, str) else p.envvar or [])
    }


def test_every_firstline_variable_in_the_docs_is_read() -> None:
    cli_vars, problems = _cli_env_vars(), []
    for doc, number, name in _env_vars():
        parts = name.removeprefix("FIRSTLINE_").split("__")
        if name in cli_vars or setting_exists(parts) or _read_somewhere(name):
            continue
        problems.append(
            f"{doc.relative_to(ROOT)}:{number}: `{name}` is no setting and nothing reads it"
        )
    assert not problems, "\n".join(problems)


def _chart_value(parts: list[str]) -> bool:
    """deploy.md names the Helm chart's values the same way (`serve.replicas`)."""
    values: Any = yaml.safe_load((ROOT / "deploy/helm/firstline/values.yaml").read_text())
    for part in parts:
        if not isinstance(values, dict) or part not in values:
            return False
        values = values[part]
    return True


def _groups() -> set[str]:
    return {n for n, f in Settings.model_fields.items() if _models_in(f.annotation)}


def test_every_dotted_setting_in_the_docs_exists() -> None:
    """`store.retention_days`, `reasoning.mode: llm`, `sources.prometheus.url`..."""
    groups, problems, checked = _groups(), [], 0
    for doc in doc_files():
        for number, span in inline_code(doc):
            key = re.split(r"[:=\s]", span, maxsplit=1)[0]
            parts = key.split(".")
            if parts[0] not in groups or len(parts) < 2 or "*" in key or _FILE_SUFFIX.search(key):
                continue
            if any(not re.fullmatch(r"[a-z_][a-z0-9_]*", p) for p in parts):
                continue  # `serve.webhooks.<vendor>`: a placeholder
            checked += 1
            if not setting_exists(parts) and not _chart_value(parts):
                problems.append(f"{doc.relative_to(ROOT)}:{number}: no setting `{key}`")
    assert checked > 50, checked
    assert not problems, "\n".join(problems)


def test_the_settings_files_the_docs_show_load(tmp_path: Path) -> None:
    """A yaml block that starts with a comment naming `firstline.yaml` is a settings file."""
    shown = 0
    for doc in doc_files():
        for block in blocks(doc):
            if block.language != "yaml" or not block.lines:
                continue
            if not re.match(r"#.*firstline\.yaml", block.lines[0][1]):
                continue
            shown += 1
            file = tmp_path / "firstline.yaml"
            file.write_text("\n".join(text for _, text in block.lines))
            try:
                load_settings(file)
            except Exception as exc:
                raise AssertionError(f"{block.where}: {exc}") from exc
            assert yaml.safe_load(file.read_text()), block.where
    assert shown >= 1


def test_the_check_knows_a_setting_from_a_typo() -> None:
    assert setting_exists(["store", "retention_days"])
    assert setting_exists(["SERVE", "AUTH", "BEARER_TOKENS"])
    assert not setting_exists(["store", "retention_day"])
    assert not setting_exists(["database", "url"])
    assert not setting_exists(["store", "data_dir", "extra"])
