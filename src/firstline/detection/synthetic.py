"""Synthetic multi-service incidents, for the localisation benchmark and tests.

A layered call graph (front ends call middle tiers call data stores). One service gets a fault
of one kind: CPU saturation, a memory leak (a ramp), slow responses, or errors. Faults reach
every caller up the graph, weakened at each hop and a little late; a caller's own latency and
errors are what move there. Each service has its own noise level (some are much noisier than
others, so z-scores mislead), and red herrings are added: a short burst in an unrelated service
near the incident, and a heavy-tailed, jumpy metric somewhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from firstline.detection.localize import Component

FaultKind = Literal["cpu", "memory", "latency", "errors"]
KINDS: tuple[FaultKind, ...] = ("cpu", "memory", "latency", "errors")
METRICS = ("cpu", "memory_mb", "latency_ms", "error_rate")


@dataclass(frozen=True)
class Incident:
    components: list[Component]
    root: str
    kind: FaultKind
    started: float
    noticed: float
    callers: Mapping[str, tuple[str, ...]]  # service -> the services it calls


def _call_graph(rng: np.random.Generator, n: int) -> dict[str, tuple[str, ...]]:
    layers = [max(1, n // 4), max(1, n // 3)]
    layers.append(n - sum(layers))
    names, start = [], 0
    for depth, size in enumerate(layers):
        names.append([f"svc-{depth}{i:02d}" for i in range(size)])
        start += size
    calls: dict[str, tuple[str, ...]] = {}
    for depth, layer in enumerate(names):
        below = [s for deeper in names[depth + 1 :] for s in deeper]
        for svc in layer:
            k = min(len(below), int(rng.integers(1, 4)))
            calls[svc] = tuple(rng.choice(below, size=k, replace=False)) if k else ()
    return calls


def _hops_to_callers(calls: Mapping[str, tuple[str, ...]], root: str) -> dict[str, int]:
    """Every service that (transitively) calls `root`, with the number of hops."""
    hops = {root: 0}
    frontier = [root]
    while frontier:
        nxt = []
        for svc, callees in calls.items():
            for target in frontier:
                if target in callees and svc not in hops:
                    hops[svc] = hops[target] + 1
                    nxt.append(svc)
        frontier = nxt
    return hops


def make_incident(
    seed: int, services: int = 14, minutes: int = 180, step: float = 60.0
) -> Incident:
    rng = np.random.default_rng(seed)
    calls = _call_graph(rng, services)
    names = sorted(calls)
    root = str(rng.choice(names))
    kind: FaultKind = KINDS[int(rng.integers(len(KINDS)))]
    t = np.asarray(1_700_000_000.0 + np.arange(minutes) * step, dtype=np.float64)
    start = int(rng.integers(minutes - 60, minutes - 30))
    noticed = start + int(rng.integers(2, 7))
    hops = _hops_to_callers(calls, root)
    # each hop adds 0-2 samples of delay and keeps 40-90% of the effect
    delay = {root: 0}
    keep = {root: 1.0}
    for svc in sorted(hops, key=hops.__getitem__):
        for callee in calls[svc]:
            if callee in delay and svc not in delay:
                delay[svc] = delay[callee] + int(rng.integers(0, 3))
                keep[svc] = keep[callee] * float(rng.uniform(0.4, 0.9))
    herring = str(
        rng.choice([s for s in names if s not in hops]) if len(hops) < len(names) else root
    )
    jumpy = str(rng.choice(names))
    all_series = {svc: _baseline(rng, minutes) for svc in names}
    felt = _inject(rng, all_series[root], kind, start)
    comps = []
    for svc in names:
        series = all_series[svc]
        if svc in delay and svc != root:
            _propagate(rng, series, start + delay[svc], keep[svc], felt)
        if svc == herring and svc != root:
            burst = int(rng.integers(start - 20, noticed + 3))
            metric = str(rng.choice(METRICS))
            series[metric][burst : burst + 2] *= float(rng.uniform(2.0, 4.0))
        if svc == jumpy:
            metric = str(rng.choice(["latency_ms", "cpu"]))
            series[metric] *= np.exp(rng.standard_t(2, minutes) * 0.08)
        comps.append(Component(svc, t, series))
    return Incident(comps, root, kind, float(t[start]), float(t[noticed]), calls)


def _baseline(rng: np.random.Generator, minutes: int) -> dict[str, NDArray[np.float64]]:
    noise = float(rng.lognormal(np.log(0.04), 0.7))  # some services are far noisier than others
    levels = {
        "cpu": rng.uniform(10, 60),
        "memory_mb": rng.uniform(200, 2000),
        "latency_ms": rng.uniform(5, 200),
        "error_rate": rng.uniform(0.001, 0.02),
    }
    wave = np.sin(np.arange(minutes) * 2 * np.pi / float(rng.uniform(60, 240)) + rng.uniform(0, 6))
    return {
        name: np.asarray(
            level * (1 + 0.1 * wave + rng.normal(0, noise, minutes)).clip(0.05), dtype=np.float64
        )
        for name, level in levels.items()
    }


def _inject(
    rng: np.random.Generator,
    series: dict[str, NDArray[np.float64]],
    kind: FaultKind,
    start: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Apply the fault; return what callers feel: latency (ms) and error rate added, per
    sample from the start of the fault."""
    minutes = len(series["cpu"])
    size = float(rng.uniform(0.5, 3.0))  # relative to the metric's level
    span = np.arange(minutes - start, dtype=np.float64)
    step = np.ones(len(span))
    slow, errors = step * 0.0, step * 0.0
    if kind == "cpu":
        series["cpu"][start:] *= 1 + size
        slow = step * size / 3
    elif kind == "memory":
        ramp = span / max(1.0, span[-1])
        series["memory_mb"][start:] *= 1 + size * ramp
        slow = size / 2 * ramp**2  # a leak slows things only once memory runs short
    elif kind == "latency":
        slow = step * size
    else:
        errors = step * size * 0.05
        slow = step * size / 10
    added = series["latency_ms"][start:] * slow
    series["latency_ms"][start:] += added
    series["error_rate"][start:] += errors
    return added, errors


def _propagate(
    rng: np.random.Generator,
    series: dict[str, NDArray[np.float64]],
    start: int,
    keep: float,
    felt: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> None:
    minutes = len(series["cpu"])
    if start >= minutes:
        return
    added, errors = (f[: minutes - start] for f in felt)
    # only part of a caller's requests reach the faulty service: the effect is diluted
    series["latency_ms"][start:] += keep * added
    series["error_rate"][start:] += keep * errors
    # callers waiting on a slow dependency do less work
    relative = keep * added / series["latency_ms"][start:]
    series["cpu"][start:] *= 1 - float(rng.uniform(0.0, 0.2)) * np.minimum(relative, 1.0)
