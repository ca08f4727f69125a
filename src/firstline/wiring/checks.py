"""`firstline check`: probe every evidence backend and say enabled, disabled or failed."""

from __future__ import annotations

import asyncio
import time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from firstline.sources.composite import CompositeSource


class CheckStatus(StrEnum):
    OK = "ok"
    DISABLED = "disabled"
    FAILED = "failed"


class BackendCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    backend: str
    status: CheckStatus
    detail: str
    seconds: float | None = None


async def _probe(kind: str, backend: object | None, limit: float) -> BackendCheck:
    if backend is None:
        return BackendCheck(backend=kind, status=CheckStatus.DISABLED, detail="not configured")
    started = time.monotonic()
    try:
        detail = await asyncio.wait_for(backend.probe(), limit)  # type: ignore[attr-defined]
    except TimeoutError:
        return BackendCheck(
            backend=kind, status=CheckStatus.FAILED, detail=f"no answer within {limit:.0f}s"
        )
    except Exception as exc:  # any failure is the answer we are here to report
        return BackendCheck(
            backend=kind, status=CheckStatus.FAILED, detail=f"{type(exc).__name__}: {exc}"
        )
    return BackendCheck(
        backend=kind,
        status=CheckStatus.OK,
        detail=str(detail),
        seconds=round(time.monotonic() - started, 3),
    )


async def check_backends(source: CompositeSource | None, limit: float) -> list[BackendCheck]:
    source = source or CompositeSource()
    return list(
        await asyncio.gather(
            _probe("prometheus", source.metrics, limit),
            _probe("loki", source.log_backend, limit),
            _probe("kubernetes", source.cluster, limit),
            _probe("alertmanager", source.alerts, limit),
        )
    )
