"""Migrations: processes that start together do not trip over each other; models match."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from bot import db
from bot.models import Base


async def test_concurrent_upgrades_from_several_processes_succeed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    script = f"from bot import db; db.upgrade({url!r})"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, cwd=Path(__file__).parents[2]
        )
        for _ in range(4)
    ]
    codes = [await p.wait() for p in processes]
    assert codes == [0, 0, 0, 0]


def test_migrations_build_what_the_models_describe(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db.upgrade(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
