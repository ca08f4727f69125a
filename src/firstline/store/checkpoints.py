"""The LangGraph checkpointer: SQLite by default (a PostgreSQL factory can sit beside it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver


def serializer(types: Iterable[type]) -> JsonPlusSerializer:
    """Only our own models may be revived from a checkpoint (no arbitrary classes)."""
    allowed = [(t.__module__, t.__name__) for t in types]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


@asynccontextmanager
async def sqlite_checkpointer(path: Path, types: Iterable[type]) -> AsyncIterator[AsyncSqliteSaver]:
    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(str(path), timeout=30) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA busy_timeout=30000")
        saver = AsyncSqliteSaver(conn, serde=serializer(types))
        await saver.setup()
        yield saver
