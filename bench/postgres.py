"""A fresh PostgreSQL database for a benchmark, on the server the tests use."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def fresh_database(name: str, given: str | None = None) -> str:
    """The URL of database ``name``, dropped and made anew on the server of ``given``
    (else TEST_DATABASE_URL, else 127.0.0.1:5432)."""
    server = make_url(given or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES)
    server = server.set(drivername="postgresql+asyncpg")

    async def recreate() -> None:
        engine = create_async_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                await connection.execute(text(f"CREATE DATABASE {name}"))
        finally:
            await engine.dispose()

    asyncio.run(recreate())
    return server.set(database=name).render_as_string(hide_password=False)
