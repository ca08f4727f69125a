"""The LangGraph checkpointer: SQLite by default, LangGraph's own PostgreSQL saver with
`store.url`.

Like every store, it raises StoreBusy or StoreUnavailable (store/errors.py) when the
database fails, never the driver's own errors, so a run stopped by a locked or unwritable
checkpoint file is told apart from a bug by the StoreError in its exception chain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    AsyncExitStack,
    asynccontextmanager,
)
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple, DeltaChannelHistory
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from firstline.store.database import ensure_parent
from firstline.store.errors import StoreBusy, typed_errors
from firstline.store.postgres import typed_pg_errors
from firstline.store.settings import StoreSettings


def serializer(types: Iterable[type]) -> JsonPlusSerializer:
    """Only our own models may be revived from a checkpoint (no arbitrary classes)."""
    allowed = [(t.__module__, t.__name__) for t in types]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


class _TypedMethods:
    """Wraps a LangGraph saver's async methods so that database failures surface as
    StoreError kinds. The synchronous methods run these on the saver's loop, so they are
    typed too. Put before the saver class in the bases."""

    @staticmethod
    def _typed() -> AbstractContextManager[None]:
        raise NotImplementedError

    async def setup(self) -> None:
        with self._typed():
            await super().setup()  # type: ignore[misc]

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        with self._typed():
            return await super().aget_tuple(config)  # type: ignore[misc,no-any-return]

    async def alist(self, *args: Any, **kwargs: Any) -> AsyncIterator[CheckpointTuple]:
        with self._typed():
            async for item in super().alist(*args, **kwargs):  # type: ignore[misc]
                yield item

    async def aput(self, *args: Any, **kwargs: Any) -> RunnableConfig:
        with self._typed():
            return await super().aput(*args, **kwargs)  # type: ignore[misc,no-any-return]

    async def aput_writes(self, *args: Any, **kwargs: Any) -> None:
        with self._typed():
            await super().aput_writes(*args, **kwargs)  # type: ignore[misc]

    async def adelete_thread(self, thread_id: str) -> None:
        with self._typed():
            await super().adelete_thread(thread_id)  # type: ignore[misc]

    async def aget_delta_channel_history(
        self, *args: Any, **kwargs: Any
    ) -> Mapping[str, DeltaChannelHistory]:
        with self._typed():
            return await super().aget_delta_channel_history(*args, **kwargs)  # type: ignore[misc,no-any-return]


class TypedSqliteSaver(_TypedMethods, AsyncSqliteSaver):
    _typed = staticmethod(typed_errors)


class TypedPostgresSaver(_TypedMethods, AsyncPostgresSaver):
    _typed = staticmethod(typed_pg_errors)


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


# One migration of LangGraph's checkpoint tables at a time, whichever replica starts first.
_SETUP_LOCK = 0x6669_7273_746C_696E  # "firstlin"


async def _take_setup_lock(guard: AsyncConnection[Any], deadline_seconds: float = 300) -> None:
    """Wait for the setup lock by trying, never inside a blocked statement: LangGraph's
    setup builds indexes CONCURRENTLY, which waits for every open transaction, and a
    statement blocked on the lock is one. Three replicas starting at once on an empty
    database deadlocked that way (through the clients, so PostgreSQL could not see it)."""
    waited = 0.0
    while True:
        cur = await guard.execute("SELECT pg_try_advisory_lock(%s) AS got", (_SETUP_LOCK,))
        row = await cur.fetchone()
        if row is not None and row[0]:
            return
        if waited >= deadline_seconds:
            raise StoreBusy(f"another replica has held the checkpoint setup lock {waited:.0f} s")
        await asyncio.sleep(0.2)
        waited += 0.2


@asynccontextmanager
async def postgres_checkpointer(
    url: str, types: Iterable[type], *, pool_size: int = 10
) -> AsyncIterator[AsyncPostgresSaver]:
    """LangGraph's PostgreSQL saver on a pool of its own (the saver's connections must
    be autocommit with dict rows and no prepared statements, as its docs ask)."""
    kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    async with AsyncExitStack() as stack:
        with typed_pg_errors():
            pool = AsyncConnectionPool(
                url, min_size=1, max_size=pool_size, kwargs=kwargs, open=False,
                name="firstline-checkpoints",
            )  # fmt: skip
            await pool.open(wait=True, timeout=30)
            stack.push_async_callback(pool.close)
        saver = TypedPostgresSaver(pool, serde=serializer(types))  # type: ignore[arg-type]
        with typed_pg_errors():
            async with await AsyncConnection.connect(url, autocommit=True) as guard:
                await _take_setup_lock(guard)
                try:
                    await saver.setup()
                finally:
                    await guard.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
        yield saver


def open_checkpointer(
    settings: StoreSettings, types: Iterable[type]
) -> AbstractAsyncContextManager[BaseCheckpointSaver[Any]]:
    """The saver the settings name: PostgreSQL with `store.url`, else SQLite in data_dir."""
    url = settings.postgres_url
    if url is not None:
        return postgres_checkpointer(url, types, pool_size=settings.pool_size)
    return sqlite_checkpointer(settings.checkpoints_db, types)
