"""``uyum data``: the users' rights and the office's duties over personal data.

``erase`` removes one user (the same answer whether or not the user exists), ``purge``
destroys what is past its retention period, ``rotate-keys`` re-encrypts the stored
addresses under the newest key, ``new-key`` makes a key, ``log`` shows what was destroyed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import db, erasure, retention
from bot.identities import new_data_key
from bot.models import DeletionRecord
from bot.rasa_tracker import RasaTrackers
from bot.settings import get_settings
from common.errors import BadRequestError

data_app = typer.Typer(help="Personal data: erasure, retention, encryption keys.")

CHANNELS = ("whatsapp", "telegram", "sandbox-whatsapp", "sandbox-telegram")


@data_app.command("erase")
def erase_command(
    channel: Annotated[str, typer.Option(help="whatsapp, telegram (or a sandbox channel).")],
    user: Annotated[str, typer.Option(help="The phone number (WhatsApp) or chat id (Telegram).")],
) -> None:
    """Erase everything held about one user; says the same whether the user existed or not."""
    if channel not in CHANNELS:
        raise BadRequestError(f"unknown channel {channel!r}", hint=", ".join(CHANNELS))
    settings = get_settings()
    identities = settings.identities()
    trackers = RasaTrackers(settings.rasa_tracker_path)

    async def work(session: AsyncSession) -> None:
        await erasure.erase_user(session, identities, trackers, channel, user, via="cli")

    asyncio.run(db.in_session(settings.app_database_url, work))
    typer.echo("erased: nothing of this user is held any more")


@data_app.command("purge")
def purge_command() -> None:
    """Destroy what is past its retention period now (the gateway also does it daily)."""
    settings = get_settings()

    async def work() -> dict[str, int]:
        await db.upgrade_async(settings.app_database_url)
        engine = db.make_engine(settings.app_database_url)
        try:
            counts = await retention.purge(
                db.make_sessionmaker(engine),
                RasaTrackers(settings.rasa_tracker_path),
                settings.retention,
                via="cli",
                gate=db.WriteGate(settings.app_database_url),
            )
        finally:
            await engine.dispose()
        return dict(counts)

    counts = asyncio.run(work())
    if not counts:
        typer.echo("nothing past its retention period")
    for name, rows in sorted(counts.items()):
        typer.echo(f"{name}: {rows}")


@data_app.command("rotate-keys")
def rotate_command() -> None:
    """Re-encrypt every stored address under the first key of UYUM_DATA_KEYS."""
    settings = get_settings()
    identities = settings.identities()

    async def work(session: AsyncSession) -> int:
        return await erasure.rotate_keys(session, identities)

    done = asyncio.run(db.in_session(settings.app_database_url, work))
    typer.echo(f"re-encrypted {done} addresses; older keys can now be removed")


@data_app.command("new-key")
def new_key_command() -> None:
    """Print a new data encryption key (put it first in UYUM_DATA_KEYS)."""
    typer.echo(new_data_key())


@data_app.command("log")
def log_command(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Erasures and purges: when, how, what they destroyed (counts only)."""
    settings = get_settings()

    async def work(session: AsyncSession) -> list[DeletionRecord]:
        query = select(DeletionRecord).order_by(DeletionRecord.id.desc()).limit(limit)
        return list((await session.scalars(query)).all())

    rows = asyncio.run(db.in_session(settings.app_database_url, work))
    if as_json:
        views = [
            {"at": r.at.isoformat(), "kind": r.kind, "via": r.via, "counts": r.counts} for r in rows
        ]
        typer.echo(json.dumps(views, indent=2))
        return
    table = Table("at", "kind", "via", "destroyed", "seconds")
    for r in rows:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())) or "nothing"
        table.add_row(f"{r.at:%Y-%m-%d %H:%M}", r.kind, r.via, counts, f"{r.seconds:.2f}")
    Console().print(table)
