"""A typed client for Alertmanager's API v2 (GET /api/v2/alerts, /api/v2/status)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from firstline.sources.errors import SourceBadResponse
from firstline.sources.http import build_client, request_json
from firstline.sources.promql import escape_label_value
from firstline.sources.settings import AlertmanagerSettings


class AlertStatusV2(BaseModel):
    state: str  # active | suppressed | unprocessed


class GettableAlert(BaseModel):
    """The fields of API v2's GettableAlert that firstline uses."""

    model_config = ConfigDict(populate_by_name=True)

    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str | None = Field(default=None, alias="generatorURL")
    status: AlertStatusV2


_ALERTS = TypeAdapter(list[GettableAlert])


def matcher(name: str, value: str) -> str:
    """An Alertmanager filter matcher with the value quoted and escaped."""
    return f'{name}="{escape_label_value(value)}"'


class AlertmanagerClient:
    def __init__(
        self, settings: AlertmanagerSettings, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self._http = client or build_client(settings)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def alerts(
        self, filters: list[str] | None = None, *, include_muted: bool = False
    ) -> list[GettableAlert]:
        """Active alerts matching every filter; silenced/inhibited ones only on request."""
        params: list[tuple[str, str]] = [("filter", f) for f in filters or []]
        params.append(("active", "true"))
        if not include_muted:
            params += [("silenced", "false"), ("inhibited", "false")]
        raw = await request_json(
            self._http, "GET", "/api/v2/alerts", params=params, retries=self.settings.retries
        )
        try:
            return _ALERTS.validate_python(raw)
        except ValidationError as exc:
            raise SourceBadResponse("/api/v2/alerts: unexpected shape") from exc

    async def version(self) -> str:
        raw: Any = await request_json(
            self._http, "GET", "/api/v2/status", retries=self.settings.retries
        )
        try:
            return f"Alertmanager {raw['versionInfo']['version']}"
        except (KeyError, TypeError) as exc:
            raise SourceBadResponse("/api/v2/status: unexpected shape") from exc
