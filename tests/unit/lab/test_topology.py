"""The lab's ports: chosen below the kernel's ephemeral range, where no bind(0) elsewhere on
the machine can take one between `lab up` choosing it and its part binding it (found when the
lab ran beside the parallel suite: a port chosen free was taken a minute later)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from firstline.lab import topology
from firstline.lab.topology import Ports, Topology


def test_ports_are_distinct_bindable_and_below_the_ephemeral_range() -> None:
    ports = list(asdict(Ports.allocate()).values())
    assert len(set(ports)) == len(ports)
    start = topology._ephemeral_start()
    if start:  # Linux: the range is known
        assert all(topology.LOWEST_LAB_PORT <= p < start for p in ports), ports
    assert all(topology._bindable(p) for p in ports)


def test_the_topology_survives_a_save_and_load(tmp_path: Path) -> None:
    saved = Topology(lab_dir=tmp_path, ports=Ports.allocate())
    saved.save()
    assert Topology.load(tmp_path) == saved
