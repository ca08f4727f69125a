"""A typed client for the Prometheus HTTP API (v1): instant and range queries, alerting rules,
build info. Answers are validated; anything off-spec is a SourceBadResponse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from firstline.sources.errors import SourceBadResponse, SourceRejected
from firstline.sources.http import build_client, request_json
from firstline.sources.settings import PrometheusSettings


class Series(BaseModel):
    model_config = ConfigDict(frozen=True)

    labels: dict[str, str]
    points: list[tuple[datetime, float]]


class AlertingRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    query: str
    labels: dict[str, str] = Field(default_factory=dict)
    state: str = ""


class _Data(BaseModel):
    resultType: Literal["matrix", "vector", "scalar", "string"]
    result: Any


class _Envelope(BaseModel):
    status: Literal["success", "error"]
    data: Any = None
    error: str | None = None
    errorType: str | None = None


class _Sample(BaseModel):
    metric: dict[str, str] = Field(default_factory=dict)
    values: list[tuple[float, str]] | None = None
    value: tuple[float, str] | None = None


def _to_float(text: str) -> float:
    return float(text)  # Prometheus sends "NaN", "+Inf" as strings; float() reads them


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class PrometheusClient:
    def __init__(
        self, settings: PrometheusSettings, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self._http = client or build_client(settings)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        raw = await request_json(
            self._http, "GET", path, params=params, retries=self.settings.retries
        )
        try:
            envelope = _Envelope.model_validate(raw)
        except ValidationError as exc:
            raise SourceBadResponse(f"{path}: not a Prometheus API answer") from exc
        if envelope.status == "error":
            raise SourceRejected(f"{path}: {envelope.errorType}: {envelope.error}")
        return envelope.data

    async def _series(self, path: str, params: dict[str, str]) -> list[Series]:
        data = await self._get(path, params)
        try:
            parsed = _Data.model_validate(data)
            samples = [_Sample.model_validate(s) for s in parsed.result]
        except (ValidationError, TypeError) as exc:
            raise SourceBadResponse(f"{path}: unexpected result shape") from exc
        out = []
        for sample in samples:
            values = (
                sample.values
                if sample.values is not None
                else [sample.value]
                if sample.value
                else []
            )
            try:
                points = [(_ts(t), _to_float(v)) for t, v in values]
            except ValueError as exc:
                raise SourceBadResponse(f"{path}: a sample value is not a number") from exc
            out.append(Series(labels=sample.metric, points=points))
        return out

    async def query(self, promql: str, at: datetime | None = None) -> list[Series]:
        params = {"query": promql}
        if at is not None:
            params["time"] = f"{at.timestamp():.3f}"
        return await self._series("/api/v1/query", params)

    async def query_range(
        self, promql: str, start: datetime, end: datetime, step_seconds: float
    ) -> list[Series]:
        params = {
            "query": promql,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step_seconds:g}",
        }
        return await self._series("/api/v1/query_range", params)

    async def alerting_rules(self) -> list[AlertingRule]:
        data = await self._get("/api/v1/rules", {"type": "alert"})
        try:
            groups = data["groups"]
            return [
                AlertingRule.model_validate(rule)
                for group in groups
                for rule in group.get("rules", [])
                if rule.get("type") == "alerting"
            ]
        except (KeyError, TypeError, ValidationError) as exc:
            raise SourceBadResponse("/api/v1/rules: unexpected shape") from exc

    async def build_info(self) -> str:
        data = await self._get("/api/v1/status/buildinfo", {})
        version = data.get("version", "?") if isinstance(data, dict) else "?"
        return f"Prometheus {version}"
