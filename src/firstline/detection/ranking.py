"""Which service started it: services ranked by how far their *own* metrics moved at an incident.

For every metric of every service, the samples from `at` on are compared with the hour before
(its median and robust spread, MAD x 1.4826, floored at 5% of the level: a move smaller than
that is not one a person acts on, and a flat metric would otherwise make any wiggle infinite).
A move must be *sustained*: the score of a metric is the largest |z| that two consecutive
samples both reach, so one odd scrape cannot decide. Its first moment past 4 spreads is when
it *moved first*.

Not every metric speaks for its service. Metrics are sorted into families by name:

- own: CPU, memory, the latency of the requests it serves (server side, inbound call edges),
  its errors / success rate, and anything unrecognised;
- callee: its client-side latency, the time its *callees* take, which is evidence about them;
- traffic: request rate, workload, network bytes, syscalls, which move when callers send more
  or less, i.e. with the incident's cause wherever it is;
- node: the machine's metrics, shared with every pod on it.

A service's score is its best own-family metric; the others are reported as moved but do not
rank it. With a call graph (`edges`, caller -> callee, or `from=<caller>` in an inbound edge
metric's name), a caller's latency is explained away when one of its callees moved in an own
family no later: its latency then no longer counts as its own.

With a call graph and request rates, a caller also gets a *calls* signal (an own family): for
each callee, the callee's request rate per request the caller serves, a ratio that holds while
the caller runs the same code path whatever its traffic. When a majority of its callees
(at least two) see that ratio move, the caller changed what it does per request: an exception
or an early return that skips the downstream calls (or a retry loop that repeats them). The
signal's z is the move of the weakest member of that majority; one callee alone could be the
cause itself, so it never decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

LINE = 4.0  # spreads: a metric has moved once it is sustained beyond this
FLOOR = 0.05  # the spread is at least this share of the level
OWN = ("cpu", "memory", "latency", "errors", "calls", "other")
_FROM = re.compile(r"from=([A-Za-z0-9_.\-]+)")
SERVED = ("workload", "request", "rps", "qps", "ops")  # a rate of requests served


def family(metric: str) -> str:
    """The family of a metric name (case-insensitive substrings, most specific first)."""
    name = metric.lower()
    rules = (
        ("node", name.startswith("node") or "node_" in name),
        ("callee", "client" in name and ("latency" in name or "duration" in name)),
        ("errors", any(w in name for w in ("success", "error", "fail", "5xx"))),
        ("latency", any(w in name for w in ("latency", "duration", "response_time"))),
        ("cpu", "cpu" in name),
        ("memory", "mem" in name),
        (
            "traffic",
            any(w in name for w in ("workload", "ops", "request", "network", "bytes", "syscall")),
        ),
    )
    return next((fam for fam, hit in rules if hit), "other")


@dataclass(frozen=True)
class MovedMetric:
    metric: str
    family: str
    z: float  # signed, in spreads: the largest move two consecutive samples sustained
    first_moved: float  # unix seconds of the first sample past LINE
    baseline: float  # median of the hour before
    value: float  # the value at the largest sustained move


@dataclass(frozen=True)
class Ranked:
    service: str
    score: float  # |z| of the best own-family metric still counted, 0 when none moved
    deciding: MovedMetric | None
    moved: tuple[MovedMetric, ...]  # every metric past LINE, largest first


def move(
    metric: str,
    stamps: NDArray[np.float64],
    values: NDArray[np.float64],
    at: float,
    line: float = LINE,
    floor: float = FLOOR,
) -> MovedMetric | None:
    """The sustained move of one metric from `at` on against the samples before (module
    docstring), or None when it did not pass `line`."""
    ok = np.isfinite(values)
    stamps, values = stamps[ok], values[ok]
    before, after = values[stamps < at], values[stamps >= at]
    if len(before) < 3 or len(after) < 2:
        return None
    base = float(np.median(before))
    spread = 1.4826 * float(np.median(np.abs(before - base)))
    z = (after - base) / max(spread, floor * abs(base), 1e-9)
    held = np.minimum(np.abs(z[1:]), np.abs(z[:-1]))  # both samples of a pair reach it
    best = int(np.argmax(held))
    if held[best] < line:
        return None
    first = int(np.argmax(held >= line))
    # the larger |z| of the pair is the sample where the sustained move was largest
    at_best = best + 1 if abs(z[best + 1]) <= abs(z[best]) else best
    return MovedMetric(
        metric=metric,
        family=family(metric),
        z=float(held[best] * np.sign(z[at_best])),
        first_moved=float(stamps[stamps >= at][first]),
        baseline=base,
        value=float(after[at_best]),
    )


def edges_from_names(metrics: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """Call edges (caller, callee) named by inbound edge metrics: `...from=<caller>...` in a
    metric of the callee."""
    known = set(metrics)
    out = set()
    for callee, names in metrics.items():
        for name in names:
            match = _FROM.search(name)
            if match and match.group(1) in known and match.group(1) != callee:
                out.add((match.group(1), callee))
    return out


Series = tuple[NDArray[np.float64], NDArray[np.float64]]  # unix seconds, values


def served_rate(names: Iterable[str]) -> str | None:
    """The metric counting the requests a service serves (`PodWorkload(Ops)`, `request_rate`):
    the first, by name, of its traffic-family metrics naming requests, not bytes or syscalls
    and not a per-edge metric."""
    for name in sorted(names):
        low = name.lower()
        if family(name) != "traffic" or _FROM.search(name):
            continue
        if any(w in low for w in ("network", "bytes", "syscall")):
            continue
        if any(w in low for w in SERVED):
            return name
    return None


def _aligned(stamps: NDArray[np.float64], other: Series) -> NDArray[np.float64]:
    """`other`'s values at `stamps`: the nearest sample within half a step, else NaN."""
    ts, vals = other
    out = np.full(len(stamps), np.nan)
    if len(ts) == 0 or len(stamps) == 0:
        return out
    order = np.argsort(ts)
    ts, vals = ts[order], vals[order]
    step = float(np.median(np.diff(stamps))) if len(stamps) > 1 else 0.0
    right = np.clip(np.searchsorted(ts, stamps), 0, len(ts) - 1)
    left = np.clip(right - 1, 0, len(ts) - 1)
    nearest = np.where(np.abs(ts[left] - stamps) <= np.abs(ts[right] - stamps), left, right)
    close = np.abs(ts[nearest] - stamps) <= step / 2
    out[close] = vals[nearest][close]
    return out


def _call_rates(
    services: Mapping[str, Mapping[str, Series]],
    at: float,
    callees: Mapping[str, set[str]],
    line: float,
    floor: float,
) -> dict[str, MovedMetric]:
    """The *calls* signal of each caller whose per-request call ratio moved at a majority of
    its callees (module docstring)."""
    out = {}
    for caller, called in callees.items():
        own = served_rate(services.get(caller, {}))
        if own is None or len(called) < 2:
            continue
        stamps, requests = services[caller][own]
        moves: list[MovedMetric | None] = []
        for callee in sorted(called):
            theirs = served_rate(services.get(callee, {}))
            if theirs is None:
                continue
            received = _aligned(stamps, services[callee][theirs])
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(requests > 0, received / requests, np.nan)
            moves.append(move(f"calls to {callee}", stamps, ratio, at, line, floor))
        if len(moves) < 2:
            continue
        strength = sorted((abs(m.z) if m else 0.0 for m in moves), reverse=True)
        weakest = strength[len(moves) // 2]  # the weakest member of a majority
        if weakest < line:
            continue
        majority = [m for m in moves if m and abs(m.z) >= weakest]
        rising = sum(m.z > 0 for m in majority) * 2 > len(majority)
        picked = min(majority, key=lambda m: (abs(m.z), m.metric))
        out[caller] = replace(
            picked,
            metric=f"{picked.metric} per request ({len(majority)} of {len(moves)} callees moved)",
            family="calls",
            z=weakest if rising else -weakest,
            first_moved=min(m.first_moved for m in majority),
        )
    return out


def rank(
    services: Mapping[str, Mapping[str, Series]],
    at: float,
    edges: Iterable[tuple[str, str]] = (),
    *,
    line: float = LINE,
    floor: float = FLOOR,
    call_rates: bool = True,
) -> list[Ranked]:
    """`services`: name -> metric name -> (timestamps, values). Highest score first; ties by
    name, so the order is deterministic. `line` and `floor` are LINE and FLOOR (the benchmark
    varies them to show how much the result depends on them); `call_rates=False` leaves out
    the calls signal."""
    moved: dict[str, list[MovedMetric]] = {}
    for name, metrics in services.items():
        found = [
            m for key, (ts, vals) in metrics.items() if (m := move(key, ts, vals, at, line, floor))
        ]
        moved[name] = found
    callees: dict[str, set[str]] = {}
    for caller, callee in edges:
        callees.setdefault(caller, set()).add(callee)
    if call_rates:
        for caller, signal in _call_rates(services, at, callees, line, floor).items():
            moved.setdefault(caller, []).append(signal)
    moved = {name: sorted(found, key=lambda m: -abs(m.z)) for name, found in moved.items()}
    out = []
    for name, found in moved.items():
        own = [m for m in found if m.family in OWN]
        explained = _explained(name, own, callees.get(name, set()), moved)
        counted = [m for m in own if not (m.family == "latency" and explained)]
        deciding = counted[0] if counted else None
        score = abs(deciding.z) if deciding else 0.0
        out.append(Ranked(name, round(score, 3), deciding, tuple(found)))
    return sorted(out, key=lambda r: (-r.score, r.service))


def _explained(
    name: str,
    own: Sequence[MovedMetric],
    callees: set[str],
    moved: Mapping[str, Sequence[MovedMetric]],
) -> bool:
    """Whether a callee moved in an own family no later than this service's latency did."""
    latency = [m.first_moved for m in own if m.family == "latency"]
    if not latency or not callees:
        return False
    began = min(latency)
    return any(
        m.family in OWN and m.first_moved <= began
        for callee in callees
        for m in moved.get(callee, ())
    )
