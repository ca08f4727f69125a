"""The LangGraph checkpointer: SQLite by default (a PostgreSQL factory can sit beside it).

Like every store, it raises StoreBusy or StoreUnavailable (store/errors.py) when the
database fails, never the driver's own errors, so a run stopped by a locked or unwritable
checkpoint file is told apart from a bug by the StoreError in its exception chain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple, DeltaChannelHistory
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from firstline.store.errors import typed_errors
from firstline.store.sqlite import ensure_parent


def serializer(types: Iterable[type]) -> JsonPlusSerializer:
    """Only our own models may be revived from a checkpoint (no arbitrary classes)."""
    allowed = [(t.__module__, t.__name__) for t in types]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


class TypedSqliteSaver(AsyncSqliteSaver):
    """AsyncSqliteSaver whose database failures are StoreError kinds. The synchronous
    methods run these on the saver's loop, so they are typed too."""

    async def setup(self) -> None:
        with typed_errors():
            await super().setup()

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        with typed_errors():
            return await super().aget_tuple(config)

    async def alist(self, *args: Any, **kwargs: Any) -> AsyncIterator[CheckpointTuple]:
        with typed_errors():
            async for item in super().alist(*args, **kwargs):
                yield item

    async def aput(self, *args: Any, **kwargs: Any) -> RunnableConfig:
        with typed_errors():
            return await super().aput(*args, **kwargs)

    async def aput_writes(self, *args: Any, **kwargs: Any) -> None:
        with typed_errors():
            await super().aput_writes(*args, **kwargs)

    async def adelete_thread(self, thread_id: str) -> None:
        with typed_errors():
            await super().adelete_thread(thread_id)

    async def aget_delta_channel_history(
        self, *args: Any, **kwargs: Any
    ) -> Mapping[str, DeltaChannelHistory]:
        with typed_errors():
            return await super().aget_delta_channel_history(*args, **kwargs)


@asynccontextmanager
async def sqlite_checkpointer(path: Path, types: Iterable[type]) -> AsyncIterator[AsyncSqliteSaver]:
    ensure_parent(path)
    async with AsyncExitStack() as stack:
        with typed_errors():
            conn = await stack.enter_async_context(aiosqlite.connect(str(path), timeout=30))
            # before anything is written: a new file returns the pages compaction frees
            # (store/retention.py); on an existing file this is a no-op until a VACUUM
            await conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA busy_timeout=30000")
        saver = TypedSqliteSaver(conn, serde=serializer(types))
        await saver.setup()
        yield saver
