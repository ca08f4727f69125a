"""A typed client for Loki's HTTP API: query_range (paged), label discovery, build info.

Answers are validated; anything off-spec is a SourceBadResponse. Times go over the wire as
integer nanoseconds since the epoch, which Loki and Loki-compatible servers all read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from firstline.sources.errors import SourceBadResponse, SourceRejected
from firstline.sources.http import build_client, request_json
from firstline.sources.settings import LokiSettings

Direction = Literal["backward", "forward"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Loki's default max_entries_limit_per_query: a larger `limit` is refused with a 400, so
# reads beyond it are paged.
MAX_PAGE = 5000
# How far a resumed page reaches back over the previous one (see LokiClient.read).
RESUME_SLACK_NS = 1_000_000
_MAX_NS = 253_402_300_800 * 10**9  # 10000-01-01: beyond what a datetime holds


def to_ns(ts: datetime) -> int:
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    return (aware - EPOCH) // timedelta(microseconds=1) * 1000


def from_ns(ns: int) -> datetime:
    return EPOCH + timedelta(microseconds=ns // 1000)


@dataclass(frozen=True)
class LogLine:
    ts_ns: int
    line: str
    labels: dict[str, str]

    def key(self) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        return self.ts_ns, self.line, tuple(sorted(self.labels.items()))


@dataclass(frozen=True)
class LogRead:
    """Lines read by a paged query, newest first for backward reads, oldest first otherwise.
    `truncated` means the limit was reached while the server still had lines to give."""

    lines: list[LogLine]
    truncated: bool
    pages: int


@dataclass
class _Window:
    """The [start, end] bounds of a paged read, moved after each page."""

    start: int
    end: int
    backward: bool

    @property
    def bounds(self) -> tuple[int, int]:
        return self.start, self.end

    def resume_after(self, last_ns: int) -> None:
        if self.backward:
            self.end = min(self.end, last_ns + RESUME_SLACK_NS)
        else:
            self.start = max(self.start, last_ns - RESUME_SLACK_NS)

    def overlap(self, lines: list[LogLine]) -> int:
        """Lines already read that the next page may return again (generously counted)."""
        count = 0
        for line in reversed(lines):  # the oldest (backward) or newest read come last
            # qryn floors both bounds to milliseconds, so its start may reach one more back
            inside = (
                line.ts_ns <= self.end
                if self.backward
                else line.ts_ns >= self.start - RESUME_SLACK_NS
            )
            if not inside:
                break
            count += 1
        return count


class _Envelope(BaseModel):
    status: Literal["success", "error"]
    data: Any = None
    error: str | None = None


class _Stream(BaseModel):
    stream: dict[str, str]
    values: list[list[Any]]


def _line(values: list[Any], labels: dict[str, str], path: str) -> LogLine:
    # [ts, line] or, with structured metadata, [ts, line, {...}]; Loki sends the timestamp as
    # a string, qryn as a JSON number.
    if len(values) < 2 or not isinstance(values[1], str):
        raise SourceBadResponse(f"{path}: a log entry is not [timestamp, line]")
    try:
        ts = int(values[0])
    except (TypeError, ValueError) as exc:
        raise SourceBadResponse(f"{path}: a log timestamp is not an integer") from exc
    if not 0 <= ts < _MAX_NS:
        raise SourceBadResponse(f"{path}: a log timestamp is out of range: {ts}")
    return LogLine(ts_ns=ts, line=values[1], labels=labels)


class LokiClient:
    def __init__(self, settings: LokiSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        tenant = {"X-Scope-OrgID": settings.tenant} if settings.tenant else None
        self._http = client or build_client(settings, tenant)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        raw = await request_json(
            self._http, "GET", path, params=params, retries=self.settings.retries
        )
        try:
            envelope = _Envelope.model_validate(raw)
        except ValidationError as exc:
            raise SourceBadResponse(f"{path}: not a Loki API answer") from exc
        if envelope.status == "error":
            raise SourceRejected(f"{path}: {envelope.error}")
        return envelope.data

    async def query_range(
        self, query: str, start_ns: int, end_ns: int, *, limit: int, direction: Direction
    ) -> list[LogLine]:
        """One request: at most `limit` lines over all streams, in no particular order."""
        path = "/loki/api/v1/query_range"
        params = {
            "query": query,
            "start": str(start_ns),
            "end": str(end_ns),
            "limit": str(limit),
            "direction": direction,
        }
        data = await self._get(path, params)
        if not isinstance(data, dict) or data.get("resultType") != "streams":
            kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
            raise SourceBadResponse(f"{path}: expected log streams, got {kind}")
        try:
            streams = [_Stream.model_validate(s) for s in data.get("result") or []]
        except (ValidationError, TypeError) as exc:
            raise SourceBadResponse(f"{path}: unexpected stream shape") from exc
        return [_line(v, s.stream, path) for s in streams for v in s.values]

    async def read(
        self,
        query: str,
        start: datetime,
        end: datetime,
        *,
        limit: int,
        direction: Direction = "backward",
        page_size: int = MAX_PAGE,
    ) -> LogRead:
        """Up to `limit` lines, paged like logcli: each page resumes where the last one
        stopped (several lines may share that timestamp), and lines already read are dropped.

        Pages overlap by RESUME_SLACK_NS on purpose: qryn rounds the bounds it is given to
        milliseconds through a float, so resuming exactly at the last timestamp could skip
        the rest of its group there. Each page asks for enough extra lines to cover the
        overlap, so the overlap costs bandwidth, never lines."""
        window = _Window(to_ns(start), to_ns(end), backward=direction == "backward")
        want = limit + 1  # one line past the limit tells whether the window holds more
        lines: list[LogLine] = []
        seen: set[tuple[int, str, tuple[tuple[str, str], ...]]] = set()
        pages, ask = 0, min(page_size, want)
        while True:
            page = await self.query_range(query, *window.bounds, limit=ask, direction=direction)
            pages += 1
            fresh = [entry for entry in page if entry.key() not in seen]
            fresh.sort(key=lambda entry: entry.ts_ns, reverse=window.backward)
            taken = fresh[: want - len(lines)]
            lines.extend(taken)
            seen.update(entry.key() for entry in taken)
            exhausted = len(page) < ask
            # with a full page and nothing new, more lines share one moment than a page holds
            stuck = not fresh and not exhausted
            if exhausted or stuck or len(lines) >= want:
                truncated = len(lines) > limit or stuck
                return LogRead(lines=lines[:limit], truncated=truncated, pages=pages)
            window.resume_after(lines[-1].ts_ns)
            ask = min(page_size, want - len(lines) + window.overlap(lines))

    async def labels(self, start: datetime, end: datetime) -> list[str]:
        data = await self._get(
            "/loki/api/v1/labels", {"start": str(to_ns(start)), "end": str(to_ns(end))}
        )
        return _strings(data, "/loki/api/v1/labels")

    async def label_values(self, name: str, start: datetime, end: datetime) -> list[str]:
        path = f"/loki/api/v1/label/{quote(name, safe='')}/values"
        data = await self._get(path, {"start": str(to_ns(start)), "end": str(to_ns(end))})
        return _strings(data, path)

    async def build_info(self) -> str:
        """The server's version. Not enveloped; some Loki-compatible servers answer 404."""
        path = "/loki/api/v1/status/buildinfo"
        raw = await request_json(self._http, "GET", path, retries=self.settings.retries)
        if not isinstance(raw, dict) or not raw.get("version"):
            raise SourceBadResponse(f"{path}: no version in the answer")
        return f"Loki {raw['version']}"


def _strings(data: Any, path: str) -> list[str]:
    if data is None:
        return []  # Loki omits `data` when no label is known in the window
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise SourceBadResponse(f"{path}: expected a list of strings")
    return list(data)
