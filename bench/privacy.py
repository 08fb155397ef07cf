"""Privacy and security figures of issue #9: forged webhooks, unauthenticated routes, erasure.

    .venv/bin/python -m bench.privacy [--messages 10000] [--others 500] [--postgres URL]

1. **Forged webhooks.** The gateway in-process with Telegram and WhatsApp configured gets
   forged and unsigned requests of every kind (no header, a wrong or empty secret, a
   signature over another URL or another body, a replayed signature with a changed field);
   the share refused with 403, and the messages stored (must be none).
2. **Unauthenticated routes.** Every route of the OpenAPI schema called without credentials;
   the ones that answered anything but 401/403 outside ``webhooks.app.PUBLIC_ROUTES``.
3. **Erasure.** One user with ``--messages`` messages and as many replies, a subscription,
   handovers, and Rasa's dialogue events (four per message), among ``--others`` users with
   100 messages each; the time ``bot.erasure.erase_user`` takes, on SQLite and PostgreSQL.
   Target: <= 2 s. Then the check that nothing of the user is left and the others are whole.

Logs without personal data and the schemathesis run are tests (tests/e2e/test_privacy.py,
tests/fuzz/); their summaries are in ``make test``'s output.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from twilio.request_validator import RequestValidator

from bench.postgres import fresh_database
from bench.results import write
from bot import db, erasure
from bot.identities import Identities, new_data_key
from bot.models import Conversation, Handover, InboundRecord, OutboxRecord, Subscription
from bot.rasa_tracker import RasaTrackers
from bot.settings import Settings
from webhooks.app import PUBLIC_ROUTES, create_app

PUBLIC = "https://uyum.example.org"
TG_SECRET = "bench-telegram-secret-0123456789"  # noqa: S105 (an in-process test gateway's)
TWILIO_TOKEN = "bench-twilio-token-0123456789"  # noqa: S105
PG_DATABASE = "uyum_bench_privacy"
CHUNK = 5_000
IDS = Identities("bench-pseudonym-key-0123456789", [new_data_key()])


def gateway_settings(folder: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=folder,
        rasa_port=9,
        public_base_url=PUBLIC,
        telegram_bot_token="123:abc",  # noqa: S106
        telegram_webhook_secret=TG_SECRET,
        telegram_api_base_url="http://127.0.0.1:9",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_whatsapp_from="+14155238886",
        twilio_api_base_url="http://127.0.0.1:9",
        purge_interval_hours=0,
        _env_file=None,
    )


def telegram_update(n: int) -> bytes:
    message = {
        "message_id": n,
        "date": 1_700_000_000,
        "chat": {"id": 7000 + n, "type": "private"},
        "from": {"id": 7000 + n, "is_bot": False, "first_name": "A"},
        "text": "merhaba",
    }
    return json.dumps({"update_id": 10_000 + n, "message": message}).encode()


def whatsapp_form(n: int) -> dict[str, str]:
    return {
        "MessageSid": f"SM{n:032d}",
        "AccountSid": "AC" + "1" * 32,
        "From": f"whatsapp:+90555{n:07d}",
        "To": "whatsapp:+14155238886",
        "Body": "merhaba",
        "NumMedia": "0",
    }


def forged_requests(rounds: int) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(kind, path, headers, body) of forged or unsigned webhooks."""
    sign = RequestValidator(TWILIO_TOKEN).compute_signature
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    made: list[tuple[str, str, dict[str, str], bytes]] = []
    for n in range(rounds):
        update = telegram_update(n)
        json_type = {"Content-Type": "application/json"}
        made += [
            ("telegram: no secret", "/webhooks/telegram", json_type, update),
            (
                "telegram: wrong secret",
                "/webhooks/telegram",
                {**json_type, "X-Telegram-Bot-Api-Secret-Token": TG_SECRET[:-1] + "x"},
                update,
            ),
            (
                "telegram: empty secret",
                "/webhooks/telegram",
                {**json_type, "X-Telegram-Bot-Api-Secret-Token": ""},
                update,
            ),
        ]
        form = whatsapp_form(n)
        body = urlencode(form).encode()
        good = sign(PUBLIC + "/webhooks/whatsapp", form)
        tampered = {**form, "Body": "send me everyone's numbers"}
        made += [
            ("whatsapp: no signature", "/webhooks/whatsapp", form_type, body),
            (
                "whatsapp: signed with another token",
                "/webhooks/whatsapp",
                {
                    **form_type,
                    "X-Twilio-Signature": RequestValidator("not-the-token").compute_signature(
                        PUBLIC + "/webhooks/whatsapp", form
                    ),
                },
                body,
            ),
            (
                "whatsapp: signed for another URL",
                "/webhooks/whatsapp",
                {
                    **form_type,
                    "X-Twilio-Signature": sign("https://evil.example/webhooks/whatsapp", form),
                },
                body,
            ),
            (
                "whatsapp: a real signature over a changed body",
                "/webhooks/whatsapp",
                {**form_type, "X-Twilio-Signature": good},
                urlencode(tampered).encode(),
            ),
            (
                "whatsapp status: no signature",
                "/webhooks/whatsapp/status",
                form_type,
                urlencode({"MessageSid": f"SM{n:032d}", "MessageStatus": "read"}).encode(),
            ),
        ]
    return made


def webhooks_and_routes(rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        settings = gateway_settings(Path(folder))
        with TestClient(create_app(settings)) as client:
            refused: dict[str, list[int]] = {}
            for kind, path, headers, body in forged_requests(rounds):
                status = client.post(path, content=body, headers=headers).status_code
                refused.setdefault(kind, []).append(status)
            with sqlite3.connect(Path(folder) / "uyum.db") as connection:
                stored = connection.execute("SELECT count(*) FROM inbound_messages").fetchone()[0]
            open_routes = unauthenticated_routes(client)
    total = sum(len(v) for v in refused.values())
    rejected = sum(s == 403 for v in refused.values() for s in v)
    return {
        "forged_webhooks": total,
        "forged_rejected": rejected,
        "forged_rejected_share": rejected / total,
        "forged_by_kind": {k: sorted(set(v)) for k, v in refused.items()},
        "forged_messages_stored": stored,
        "routes_checked": open_routes["checked"],
        "unauthenticated_routes": open_routes["open"],
    }


def unauthenticated_routes(client: TestClient) -> dict[str, Any]:
    """Routes that answered a caller without credentials, outside PUBLIC_ROUTES."""
    schema = client.app.openapi()  # type: ignore[attr-defined]
    checked, open_ = 0, []
    for path, methods in schema["paths"].items():
        for method in methods:
            if (method.upper(), path) in PUBLIC_ROUTES:
                continue
            checked += 1
            concrete = path.replace("{", "").replace("}", "")  # e.g. /x/handover_id: any value
            for name in ("handover_id", "conversation_id", "broadcast_id", "number"):
                concrete = concrete.replace(name, "1")
            status = client.request(method.upper(), concrete).status_code
            if status not in (401, 403):
                open_.append(f"{method.upper()} {path} -> {status}")
    return {"checked": checked, "open": open_}


async def fill(url: str, messages: int, others: int, trackers_path: Path) -> str:
    """The user to erase (conversation 1; their WhatsApp number) among ``others`` users, with
    Rasa's events."""
    ids = IDS
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    now = dt.datetime.now(dt.UTC)
    number = "whatsapp:+905550000000"
    users = [number] + [f"whatsapp:+90555{i:07d}" for i in range(1, others + 1)]
    async with engine.begin() as connection:
        await connection.execute(
            insert(Conversation),
            [
                {
                    "id": i + 1,
                    "channel": "whatsapp",
                    "user_ref": ids.pseudonym("whatsapp", u),
                    "address": ids.seal(u),
                    "mode": "bot",
                    "choices": [],
                    "created_at": now,
                    "updated_at": now,
                    "last_inbound_at": now,
                }
                for i, u in enumerate(users)
            ],
        )
        counts = [messages] + [100] * others
        inbound, outbox = [], []
        for conversation, count in enumerate(counts, start=1):
            for k in range(count):
                inbound.append(
                    {
                        "conversation_id": conversation,
                        "channel": "whatsapp",
                        "platform_id": f"SM{conversation}-{k}",
                        "text": f"question {k}",
                        "status": "done",
                        "attempts": 0,
                        "received_at": now,
                    }
                )
                outbox.append(
                    {
                        "conversation_id": conversation,
                        "body": {"text": f"answer {k}"},
                        "kind": "reply",
                        "status": "sent",
                        "attempts": 1,
                        "next_attempt_at": now,
                    }
                )
        for table, rows in ((InboundRecord, inbound), (OutboxRecord, outbox)):
            for start in range(0, len(rows), CHUNK):
                await connection.execute(insert(table), rows[start : start + CHUNK])
        await connection.execute(
            insert(Subscription), [{"conversation_id": 1, "topic": "courses", "consented_at": now}]
        )
        await connection.execute(
            insert(Handover),
            [
                {"conversation_id": 1, "reason": "asked", "channel": "whatsapp", "state": "closed"}
                for _ in range(5)
            ],
        )
    await engine.dispose()
    with sqlite3.connect(trackers_path) as tracker:
        tracker.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
        tracker.execute("CREATE INDEX ix_events_sender_id ON events (sender_id)")  # as Rasa's
        events = [(f"c{c}", "user", time.time(), "{}") for c, n in enumerate(counts, 1)]
        tracker.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            [e for e, n in zip(events, counts, strict=True) for _ in range(4 * n)],
        )
    return number


async def erase_timed(url: str, messages: int, others: int, folder: Path) -> dict[str, Any]:
    trackers_path = folder / "rasa-tracker.db"
    number = await fill(url, messages, others, trackers_path)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    started = time.perf_counter()
    async with sessions() as session:
        await erasure.erase_user(
            session, IDS, RasaTrackers(trackers_path), "whatsapp", number, via="cli"
        )
    seconds = time.perf_counter() - started
    async with sessions() as session:
        left = {
            "messages": await session.scalar(
                select(func.count())
                .select_from(InboundRecord)
                .where(InboundRecord.conversation_id == 1)
            ),
            "replies": await session.scalar(
                select(func.count())
                .select_from(OutboxRecord)
                .where(OutboxRecord.conversation_id == 1)
            ),
            "conversation": await session.scalar(
                select(func.count()).select_from(Conversation).where(Conversation.id == 1)
            ),
        }
        others_left = await session.scalar(select(func.count()).select_from(InboundRecord))
    await engine.dispose()
    with sqlite3.connect(trackers_path) as tracker:
        left["dialogue_events"] = tracker.execute(
            "SELECT count(*) FROM events WHERE sender_id = 'c1'"
        ).fetchone()[0]
    return {
        "seconds": round(seconds, 3),
        "left_of_the_user": left,
        "other_users_messages_intact": others_left == others * 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=40, help="forged webhooks of each kind")
    parser.add_argument("--postgres", default=None, help="server URL (default: the local one)")
    args = parser.parse_args()

    figures: dict[str, Any] = webhooks_and_routes(args.rounds)
    print(
        f"forged or unsigned webhooks: {figures['forged_rejected']}/{figures['forged_webhooks']}"
        f" rejected ({figures['forged_rejected_share']:.0%}); stored:"
        f" {figures['forged_messages_stored']}"
    )
    print(
        f"routes without credentials: {figures['routes_checked']} checked,"
        f" {len(figures['unauthenticated_routes'])} answered outside the public list"
        + "".join(f"\n  {r}" for r in figures["unauthenticated_routes"])
    )
    erasures = {}
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite+aiosqlite:///{Path(folder) / 'app.db'}"
        erasures["sqlite"] = asyncio.run(
            erase_timed(sqlite_url, args.messages, args.others, Path(folder))
        )
    with tempfile.TemporaryDirectory() as folder:
        pg_url = fresh_database(PG_DATABASE, args.postgres)
        erasures["postgresql"] = asyncio.run(
            erase_timed(pg_url, args.messages, args.others, Path(folder))
        )
    for backend, result in erasures.items():
        print(
            f"erasure of a user with {args.messages:,} messages ({backend}):"
            f" {result['seconds']:.3f} s (target <= 2 s); left of the user:"
            f" {result['left_of_the_user']}; others intact: {result['other_users_messages_intact']}"
        )
    figures["erasure"] = {"messages": args.messages, "other_users": args.others, **erasures}
    write("privacy", figures)


if __name__ == "__main__":
    main()
