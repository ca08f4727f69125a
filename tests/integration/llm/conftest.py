from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.llm_server import LLMServer, LLMServerUnavailable, start_llm_server


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMServer]:
    """One llama.cpp server for the session. Missing packages fail the tests (not skip):
    `make test` installs them, so their absence is a broken setup, not an optional part."""
    try:
        server = start_llm_server(Path(tmp_path_factory.mktemp("llm-server")))
    except LLMServerUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()
