"""A metric's value as a person reads it, by the unit the pattern library gives the query
(MetricEvidence.unit): detectors' sentences and the CLI's sparklines print the same text."""

from __future__ import annotations


def format_value(value: float, unit: str) -> str:
    if unit == "bytes":
        for suffix, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(value) >= size:
                return f"{value / size:.1f} {suffix}"
        return f"{value:.0f} B"
    if unit == "seconds":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    return f"{value:.3g}{(' ' + unit) if unit else ''}"
