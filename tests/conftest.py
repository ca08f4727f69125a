"""Shared fixtures. Every test gets its own data directory; nothing touches ~/.firstline."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from firstline.scenarios.bundled import bundled_dir
from firstline.wiring.settings import Settings, load_settings
from tests.parallel import pytest_collection_modifyitems, pytest_xdist_make_scheduler  # noqa: F401 (hooks)
from tests.stores import database, postgres_cluster, postgres_database  # noqa: F401 (fixtures)

SCENARIOS = bundled_dir()
OOM = SCENARIOS / "oom-kill-loop-checkout"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for key in list(__import__("os").environ):
        if key.startswith("FIRSTLINE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return load_settings(store={"data_dir": data_dir})


@pytest.fixture
def oom_bundle(tmp_path: Path) -> Path:
    """A private copy of the OOM scenario that a test may edit."""
    target = tmp_path / "oom-copy"
    shutil.copytree(OOM, target)
    return target
