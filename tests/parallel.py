"""How `make test` spreads the suite over pytest-xdist workers (`-n 3 --dist loadfile`).

A unit of work is a whole test file, so its module-scoped servers start once and its tests
keep their order (some files end with a test that checks what the earlier ones left). The
files in ONE_AFTER_ANOTHER are a single unit: each runs several firstline processes that
keep two cores busy on their own, with deadlines and leases that would compete if they ran
beside each other. That unit starts first: it is the longest, and a long unit picked up
last would finish alone while the other workers sit idle.

(xdist's own `--dist loadgroup` cannot express this here: it tags a test's node id with its
`xdist_group`, which pytest 9.2's node ids no longer take, so every test ends up alone.)
"""

from __future__ import annotations

import os

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadFileScheduling

ONE_AFTER_ANOTHER = frozenset({
    "tests/integration/test_kill_resume.py",
    "tests/integration/scale/test_replicas_postgres.py",
    "tests/integration/scale/test_replicas_start_together.py",
    "tests/integration/scale/test_scale_benchmark.py",
})  # fmt: skip
_TOGETHER = "one after another"


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


class FileScheduling(LoadFileScheduling):
    """xdist's loadfile, with the ONE_AFTER_ANOTHER files as one unit and the units handed
    out in the workers' collection order (see pytest_collection_modifyitems)."""

    def __init__(self, config: pytest.Config, log: Producer | None = None) -> None:
        super().__init__(config, log)
        # xdist would order the units by their number of tests: a one-test file that takes
        # a minute would come last
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        file = _file(nodeid)
        return _TOGETHER if file in ONE_AFTER_ANOTHER else file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> FileScheduling | None:
    return FileScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On a worker, the ONE_AFTER_ANOTHER files first (a stable sort: the rest keep their
    order). Workers only: a run in one process keeps the usual order."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: _file(item.nodeid) not in ONE_AFTER_ANOTHER)
