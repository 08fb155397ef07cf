"""Deleting from Rasa's tracker store: a user's whole dialogue history, or old events.

Rasa keeps every turn (the user's text included) in its SQL tracker store, table ``events``,
keyed by the sender id the gateway gives it (``c<conversation id>``, never a phone number).
Rasa 3.6's HTTP API can append to a tracker or replace its events, but the SQL store only
ever appends, so erasure and retention delete the rows themselves, with the table layout of
``rasa.core.tracker_store.SQLTrackerStore``. Rasa reads the store afresh on every message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.models import RASA_SENDER_PREFIX

_EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)


class RasaTrackers:
    """Rasa's SQLite tracker store; nothing to do while Rasa has not made it."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection | None]:
        if not self._path.exists():
            yield None
            return
        engine = create_async_engine(f"sqlite+aiosqlite:///{self._path}", hide_parameters=True)
        try:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("PRAGMA busy_timeout=10000")
                tables = await connection.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
                )
                yield connection if tables.first() else None
        finally:
            await engine.dispose()

    async def _delete(self, where: ColumnElement[bool]) -> int:
        async with self._connection() as connection:
            if connection is None:
                return 0
            return int((await connection.execute(delete(_EVENTS).where(where))).rowcount or 0)

    async def forget(self, sender_ids: list[str]) -> int:
        """Delete these senders' trackers; the number of events deleted."""
        if not sender_ids:
            return 0
        return await self._delete(_EVENTS.c.sender_id.in_(sender_ids))

    async def delete_before(self, before: dt.datetime) -> int:
        """Delete every event older than ``before``; how many."""
        return await self._delete(_EVENTS.c.timestamp < before.timestamp())

    async def senders(self) -> set[str]:
        """The conversations Rasa holds events of (``c<id>``)."""
        async with self._connection() as connection:
            if connection is None:
                return set()
            senders = await connection.scalars(select(_EVENTS.c.sender_id).distinct())
            return {s for s in senders if s.startswith(RASA_SENDER_PREFIX)}
