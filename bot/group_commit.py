"""Group commit: many small concurrent writes, one transaction.

The sender marks every announcement ``sending`` before it goes and every message ``sent``
after; each was a transaction of its own under the write gate (a session, a statement, a
commit: several milliseconds through aiosqlite). At 50 messages a second the gate queue
grew to hundreds of milliseconds and sends missed their rate-limit slots. Here concurrent
callers' statements are queued and written together: while one batch commits, the next
gathers. Each caller still awaits its own statement's commit, so nothing goes on the wire
before its mark is durable. Alone, a caller pays what it paid before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import WriteGate

logger = logging.getLogger(__name__)
SLOW_SECONDS = 0.1


class GroupCommit:
    """Runs statements in shared transactions; ``execute`` returns the statement's rowcount."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], gate: WriteGate) -> None:
        self._sessions, self._gate = sessions, gate
        self._waiting: list[tuple[Executable, asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def execute(self, statement: Executable) -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((statement, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await done

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            queued = time.monotonic()
            try:
                async with self._gate():
                    started = time.monotonic()
                    async with self._sessions() as session:
                        counts = [await _rowcount(session, statement) for statement, _ in batch]
                        await session.commit()
                took = time.monotonic() - started
                if took > SLOW_SECONDS or started - queued > SLOW_SECONDS:
                    logger.warning(
                        "a group of %d writes waited %.0f ms for the write gate and took %.0f ms",
                        len(batch), (started - queued) * 1000, took * 1000,
                    )  # fmt: skip
            except Exception as exc:  # the whole batch failed: every caller hears it
                logger.warning("a group of %d writes failed: %s", len(batch), exc)
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), count in zip(batch, counts, strict=True):
                if not done.done():
                    done.set_result(count)


async def _rowcount(session: AsyncSession, statement: Executable) -> int:
    result: Any = await session.execute(statement)
    return int(result.rowcount or 0)
