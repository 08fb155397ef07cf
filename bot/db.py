"""Engine, sessions and migrations of the app database."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from common.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")


def make_engine(url: str) -> AsyncEngine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(
            f"UYUM_DATABASE_URL is not a database URL ({exc.__class__.__name__})"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite connections are cheap and hold nothing between transactions: allow many
    pool = {"pool_size": 10, "max_overflow": 40} if parsed.get_backend_name() == "sqlite" else {}
    # hide_parameters: a failed statement's error must not carry what users wrote into a log
    engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **pool)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Apply every migration (``uyum db upgrade``; also run at start).

    Processes starting together (gateway, worker) take turns: on SQLite through a lock file
    beside the database, so only the first one migrates and the others find it done.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        command.upgrade(alembic_config(url), "head")
        return
    lock_path = Path(parsed.database).with_suffix(".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            command.upgrade(alembic_config(url), "head")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


class WriteGate:
    """Lets one write transaction of this process run at a time, on SQLite.

    SQLite has one writer anyway; without the gate, writers of the same process (webhooks,
    worker, sender) meet at the database lock and SQLite's busy handler makes them sleep in
    growing steps (1, 2, 5 … 100 ms), which shows as slow webhook acknowledgements. Queued
    on an asyncio lock they go in turn, as soon as the previous one committed. PostgreSQL
    locks rows, so there the gate lets everyone through.
    """

    def __init__(self, url: str = "") -> None:
        serial = bool(url) and make_url(url).get_backend_name() == "sqlite"
        self._lock = asyncio.Lock() if serial else None

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        if self._lock is None:
            yield
            return
        async with self._lock:
            yield


async def in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed session on a migrated database (for CLI commands)."""
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()
