"""Group commit on real SQLite: concurrent writes land together, each caller gets its own
answer, and a failed group reports to its callers without stopping the next one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Update, event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import db
from bot.group_commit import GroupCommit
from bot.inbound import conversation_for
from bot.models import OutboxRecord
from tests.identities import IDENTITIES


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    made = db.make_engine(url)
    yield made
    await made.dispose()


async def test_concurrent_writes_share_transactions(engine: AsyncEngine) -> None:
    sessions = db.make_sessionmaker(engine)
    async with sessions() as session:
        conversation = await conversation_for(session, IDENTITIES, "sandbox-telegram", "u1")
        session.add_all(
            OutboxRecord(conversation_id=conversation.id, body={"text": str(i)}) for i in range(40)
        )
        await session.commit()
    commits: list[int] = []
    event.listen(engine.sync_engine, "commit", lambda _: commits.append(1))
    writes = GroupCommit(sessions, db.WriteGate(str(engine.url)))

    def mark(row_id: int) -> Update:
        return (
            update(OutboxRecord)
            .where(OutboxRecord.id == row_id, OutboxRecord.status == "pending")
            .values(status="sending")
        )

    counts = await asyncio.gather(
        *(writes.execute(mark(i)) for i in range(1, 41)), writes.execute(mark(1))
    )
    assert counts[:40] == [1] * 40 and counts[40] == 0  # the second mark of row 1 found it taken
    assert len(commits) < 10  # not one transaction each
    async with sessions() as session:
        statuses = set(await session.scalars(select(OutboxRecord.status)))
    assert statuses == {"sending"}

    with pytest.raises(Exception, match="no such table"):
        await writes.execute(text("UPDATE nowhere SET x = 1"))
    assert await writes.execute(mark(1)) == 0  # the next group is written as usual
