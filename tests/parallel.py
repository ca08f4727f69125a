"""How `make test` spreads the suite over pytest-xdist workers (`-n 3 --dist loadfile`).

A unit of work is a whole test file, so its module-scoped servers start once and its tests
keep their order (some files end with a test that checks what the earlier ones left), or one
of the named UNITS of several files. Those start first: they are the longest, and a long
unit picked up last would finish alone while the other workers sit idle.

(xdist's own `--dist loadgroup` cannot express this here: it tags a test's node id with its
`xdist_group`, which pytest 9.2's node ids no longer take, so every test ends up alone.)
"""

from __future__ import annotations

import os

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadFileScheduling

# Named units of several files, in the order they start. Each is a single unit for one of
# two reasons: its files keep two cores busy on their own (several firstline processes, with
# deadlines and leases that would compete if they ran beside each other), or they share a
# session's server that takes long to start (qryn on chdb, Prometheus + Alertmanager), which
# one worker then starts once. A path ending in "/" names a folder.
UNITS: dict[str, tuple[str, ...]] = {
    # the longest: the whole live lab, a few minutes of its own processes
    "the lab": ("tests/e2e/test_lab.py",),
    "one after another": (
        "tests/integration/test_kill_resume.py",
        "tests/integration/scale/test_replicas_postgres.py",
        "tests/integration/scale/test_replicas_start_together.py",
        "tests/integration/scale/test_scale_benchmark.py",
    ),
    "monitoring": (
        "tests/integration/test_capture_live.py",
        "tests/integration/live/",
        "tests/integration/loki/",
        "tests/integration/prometheus/",
        "tests/integration/lab/",
    ),
}


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _unit(file: str) -> str | None:
    for name, paths in UNITS.items():
        if any(file == p or (p.endswith("/") and file.startswith(p)) for p in paths):
            return name
    return None


class FileScheduling(LoadFileScheduling):
    """xdist's loadfile, with each of UNITS as one unit of work and the units handed out in
    the workers' collection order (see pytest_collection_modifyitems)."""

    def __init__(self, config: pytest.Config, log: Producer | None = None) -> None:
        super().__init__(config, log)
        # xdist would order the units by their number of tests: a one-test file that takes
        # a minute would come last
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        file = _file(nodeid)
        return _unit(file) or file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> FileScheduling | None:
    return FileScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On a worker, the named units first, in UNITS' order (a stable sort: files keep their
    order within a unit, and the rest keep theirs). Workers only: a run in one process keeps
    the usual order."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        rank = {name: n for n, name in enumerate(UNITS)}
        items.sort(key=lambda item: rank.get(_unit(_file(item.nodeid)) or "", len(rank)))
