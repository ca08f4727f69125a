"""The lab's supervisor on real child processes: records another command can act on, stops
that spare a PID now someone else's, and one-line errors that quote the child's log."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from firstline.lab.processes import LabError, start_time
from firstline.lab.supervisor import PROCESSES_FILE, LabProcess, Supervisor
from firstline.lab.topology import Ports, Topology
from tests.services.process import pid_gone

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def wait_for(condition: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def topology(tmp_path: Path) -> Topology:
    return Topology(lab_dir=tmp_path / "lab", ports=Ports.allocate())


@pytest.fixture
def supervisor(topology: Topology) -> Iterator[Supervisor]:
    supervisor = Supervisor(topology)
    yield supervisor
    supervisor.stop_all(timeout=2)


def test_a_started_process_is_recorded_with_its_start_time_and_stopped_by_pid(
    supervisor: Supervisor, topology: Topology
) -> None:
    process = supervisor.start("sleeper", SLEEPER)
    body = json.loads((topology.lab_dir / PROCESSES_FILE).read_text())
    assert body["processes"] == [
        {
            "name": "sleeper",
            "pid": process.pid,
            "argv": SLEEPER,
            "start_time": start_time(process.pid),
            "log": str(topology.logs_dir / "sleeper.log"),
            "stop_signal": int(signal.SIGTERM),
        }
    ]
    assert [(s.name, s.alive) for s in supervisor.status()] == [("sleeper", True)]
    supervisor.stop("sleeper")
    assert pid_gone(process.pid)
    assert supervisor.status() == []
    supervisor.stop("sleeper")  # twice: nothing to do
    supervisor.stop_all()


def test_another_supervisor_stops_them_from_the_file_last_started_first(
    supervisor: Supervisor, topology: Topology, tmp_path: Path
) -> None:
    order = tmp_path / "stopped-in-order"
    script = (
        "import signal, sys, time\n"
        "def bye(*_):\n"
        f"    open({str(order)!r}, 'a').write(sys.argv[1] + '\\n'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "print('up', flush=True)\n"
        "time.sleep(120)\n"
    )
    names = ["first", "second", "third"]
    log = topology.logs_dir
    started = [
        supervisor.start(
            name,
            [sys.executable, "-c", script, name],
            ready=lambda n=name: (
                (log / f"{n}.log").exists()  # type: ignore[misc]
                and "up" in (log / f"{n}.log").read_text()
            ),
        )
        for name in names
    ]
    topology.save()
    later = Supervisor(Topology.load(topology.lab_dir))  # as `firstline lab stop` would
    assert [s.name for s in later.status() if s.alive] == names
    later.stop_all()
    assert all(wait_for(lambda p=p: pid_gone(p.pid)) for p in started)
    assert order.read_text().split() == list(reversed(names))
    assert later.status() == [] and supervisor.status() == []


def test_a_pid_now_someone_elses_is_never_signalled(
    supervisor: Supervisor, topology: Topology
) -> None:
    process = supervisor.start("sleeper", SLEEPER)
    supervisor.stop("sleeper")
    bystander = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        # the record a crashed lab left behind, its PID since given to another process: the
        # same number, a different start time
        stale = replace(process, pid=bystander.pid, start_time=process.start_time - 1)
        path = topology.lab_dir / PROCESSES_FILE
        path.write_text(json.dumps({"processes": [asdict(stale)]}))
        assert [(s.name, s.alive) for s in supervisor.status()] == [("sleeper", False)]
        Supervisor(topology).stop_all(timeout=1)
        assert bystander.poll() is None, "the supervisor signalled a process it did not start"
        assert supervisor.status() == []
    finally:
        bystander.kill()
        bystander.wait()


def test_a_child_that_exits_at_start_is_a_one_line_error_quoting_its_log(
    supervisor: Supervisor, topology: Topology
) -> None:
    argv = [sys.executable, "-c", "print('reading lab.conf'); print('bad key: port'); exit(3)"]
    with pytest.raises(LabError) as raised:
        supervisor.start("broken", argv, ready=lambda: False)
    message = str(raised.value)
    assert "\n" not in message
    assert "broken exited with 3" in message
    assert "reading lab.conf | bad key: port" in message
    assert str(topology.logs_dir / "broken.log") in message
    assert supervisor.status() == []


def test_one_never_ready_is_stopped_at_the_deadline(supervisor: Supervisor) -> None:
    started = time.monotonic()
    with pytest.raises(LabError, match="sleeper not ready after 1s"):
        supervisor.start("sleeper", SLEEPER, ready=lambda: False, timeout=1)
    assert time.monotonic() - started < 10
    assert supervisor.status() == []


def test_stop_ends_the_whole_group_and_kills_one_ignoring_sigterm(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    pid_file = tmp_path / "grandchild.pid"
    script = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"child = subprocess.Popen([sys.executable, '-c', {SLEEPER[2]!r}])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(120)\n"
    )
    process: LabProcess = supervisor.start(
        "stubborn", [sys.executable, "-c", script], ready=pid_file.exists
    )
    grandchild = int(pid_file.read_text())
    started = time.monotonic()
    supervisor.stop("stubborn", timeout=1)
    assert time.monotonic() - started < 8
    assert pid_gone(process.pid)
    assert wait_for(lambda: pid_gone(grandchild)), "the group's other process survived"
