"""Building a broadcast's recipient list for 100,000 subscribers (issue #7), on SQLite.

    .venv/bin/python -m bench.broadcast_audience [--subscribers 100000]

Fills a fresh database with that many subscribed conversations (mixed languages, channels,
provinces and last messages, 5 % opted out, a fifth on another topic only), then times what
a broadcast needs: the dry run (who gets what, who is skipped and why) and walking the
whole audience in the fan-out's batches. Target: <= 2 s. PostgreSQL comes with the
production profile (#10).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.results import write
from bot import broadcasts, db
from bot.broadcasts import BATCH, Draft
from bot.models import Conversation
from bot.operators import add_operator
from bot.settings import Settings
from bot.topics import load_topics

LANGUAGES = ["tr", "ar", "fa", "en", "ps"]
CHANNELS = ["whatsapp", "telegram"]
PROVINCES = ["Gaziantep", "İstanbul", "Hatay", "Şanlıurfa", "Ankara"]
TEXTS = {"tr": "Toplantı cuma.", "ar": "الاجتماع الجمعة.", "fa": "جلسه جمعه.", "en": "Meeting."}


def fill(path: Path, subscribers: int) -> None:
    """Conversations and subscriptions written straight into the migrated database."""
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    with sqlite3.connect(path) as con:
        conversations = [
            (
                i,
                rng.choice(CHANNELS),
                f"user-{i}",
                rng.choice(LANGUAGES),
                "bot",
                "[]",
                (now - dt.timedelta(hours=rng.choice([1, 5, 30, 72]))).isoformat(),
                now.isoformat() if rng.random() < 0.05 else None,  # opted out
                rng.choice(PROVINCES),
                now.isoformat(),
                now.isoformat(),
            )
            for i in range(1, subscribers + 1)
        ]
        con.executemany(
            "INSERT INTO conversations (id, channel, user_ref, language, mode, choices,"
            " last_inbound_at, opted_out_at, province, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            conversations,
        )
        con.executemany(
            "INSERT INTO subscriptions (conversation_id, topic, consented_at) VALUES (?, ?, ?)",
            [
                (i, "health" if rng.random() < 0.2 else "informative-meetings", now.isoformat())
                for i in range(1, subscribers + 1)
            ],
        )


async def measure(url: str) -> dict[str, float | int]:
    engine = db.make_engine(url)
    order = Settings(env="test").fallback_order
    try:
        async with db.make_sessionmaker(engine)() as session:
            writer = await add_operator(session, "writer", "a-long-password", role="editor")
            draft = Draft("bench", ["informative-meetings"], dict(TEXTS))
            made = await broadcasts.create(session, draft, load_topics(), writer)
            await session.commit()
            started = time.perf_counter()
            counts = await broadcasts.dry_run(session, made, order)
            dry_run = time.perf_counter() - started
            started, walked, after = time.perf_counter(), 0, 0
            while True:  # the fan-out's reads, batch by batch, without writing
                query = broadcasts.audience(made).where(Conversation.id > after).limit(BATCH)
                rows = (await session.execute(query)).all()
                if not rows:
                    break
                walked += len(rows)
                after = rows[-1][0]
            batches = time.perf_counter() - started
            total = await session.scalar(select(func.count()).select_from(Conversation))
    finally:
        await engine.dispose()
    return {
        "conversations": int(total or 0),
        "recipients": counts["recipients"],
        "skipped": sum(counts["skipped"].values()),
        "audience_walked": walked,
        "dry_run_seconds": round(dry_run, 3),
        "batched_walk_seconds": round(batches, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="uyum-bench-audience-"))
    url = f"sqlite+aiosqlite:///{folder / 'app.db'}"
    db.upgrade(url)
    started = time.perf_counter()
    fill(folder / "app.db", args.subscribers)
    print(f"filled {args.subscribers} subscribers in {time.perf_counter() - started:.1f} s")
    figures = asyncio.run(measure(url))
    print(f"{'figure':<44}{'measured':>12}{'target':>10}")
    print(f"{'recipients / skipped':<44}{figures['recipients']:>6} / {figures['skipped']:<5}")
    print(f"{'dry run (s)':<44}{figures['dry_run_seconds']:>12}{'<= 2':>10}")
    print(
        f"{'audience in fan-out batches (s)':<44}{figures['batched_walk_seconds']:>12}{'<= 2':>10}"
    )
    write("broadcast_audience", {"database": "sqlite", "subscribers": args.subscribers, **figures})


if __name__ == "__main__":
    main()
