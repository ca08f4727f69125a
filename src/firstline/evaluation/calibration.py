"""Brier score and a reliability table: does 80% confidence come true 80% of the time?"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


class Forecast(BaseModel):
    model_config = ConfigDict(frozen=True)

    probability: float
    happened: bool


class ReliabilityBin(BaseModel):
    model_config = ConfigDict(frozen=True)

    low: float
    high: float
    count: int
    mean_confidence: float | None
    observed_frequency: float | None


def brier(forecasts: Sequence[Forecast]) -> float | None:
    if not forecasts:
        return None
    total = sum((f.probability - (1.0 if f.happened else 0.0)) ** 2 for f in forecasts)
    return round(total / len(forecasts), 4)


def reliability(forecasts: Sequence[Forecast], bins: int = 5) -> list[ReliabilityBin]:
    table = []
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        inside = [
            f
            for f in forecasts
            if low <= f.probability < high or (i == bins - 1 and f.probability == 1.0)
        ]
        table.append(
            ReliabilityBin(
                low=low,
                high=high,
                count=len(inside),
                mean_confidence=round(sum(f.probability for f in inside) / len(inside), 3)
                if inside
                else None,
                observed_frequency=round(sum(f.happened for f in inside) / len(inside), 3)
                if inside
                else None,
            )
        )
    return table
