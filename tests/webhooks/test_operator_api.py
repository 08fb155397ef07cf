"""The operator API in-process on SQLite: every transition, every permission, bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bot import db
from bot.handover import QueueFilter, list_handovers, open_handover
from bot.models import (
    AuditEntry,
    Conversation,
    InboundRecord,
    Operator,
    OperatorSession,
    OutboxRecord,
    utcnow,
)
from bot.operators import add_operator
from bot.settings import Settings
from webhooks.console_auth import COOKIE

PASSWORD = "a-long-enough-password"


def in_db(settings: Settings, work: Any) -> Any:
    """Run ``work(session)`` against the gateway's database from the test's thread."""

    async def run() -> Any:
        engine = db.make_engine(settings.app_database_url)
        try:
            async with db.make_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def add(settings: Settings, username: str, **kwargs: Any) -> int:
    async def work(session: Any) -> int:
        return (await add_operator(session, username, PASSWORD, **kwargs)).id

    return int(in_db(settings, work))


def new_handover(settings: Settings, user: str, language: str = "tr", priority: int = 0) -> int:
    async def work(session: Any) -> int:
        conversation = Conversation(channel="whatsapp", user_ref=user, language=language)
        session.add(conversation)
        await session.flush()
        session.add(
            InboundRecord(
                conversation_id=conversation.id, channel="whatsapp", platform_id=f"SM{user}",
                text="<script>alert(1)</script> yardım", status="done", attempts=0,
            )
        )  # fmt: skip
        handover, _ = await open_handover(session, conversation, "asked", priority)
        return handover.id

    return int(in_db(settings, work))


class SignedIn:
    """A signed-in operator: the session cookie and CSRF header, like the console page."""

    def __init__(self, client: TestClient, username: str) -> None:
        self.http = client
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.cookies.clear()  # one shared client: each operator sends their own cookie
        self.csrf = response.json()["csrf_token"]
        self.token = response.json()["token"]
        self.cookie = {"Cookie": f"{COOKIE}={self.token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get(path, headers=self.cookie, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {**self.cookie, "X-CSRF-Token": self.csrf}
        return self.http.post(path, json=body or {}, headers=headers)


@pytest.fixture
def team(client: TestClient, settings: Settings) -> Iterator[dict[str, SignedIn]]:
    add(settings, "ayse", display_name="Ayşe", languages=["tr", "ar"], team="north")
    add(settings, "omid", display_name="Omid", languages=["fa"], team="south")
    add(settings, "selin", display_name="Selin", role="supervisor", team="north")
    add(settings, "admin", role="admin")
    yield {name: SignedIn(client, name) for name in ("ayse", "omid", "selin", "admin")}


def test_sign_in_cookie_csrf_bearer_and_sign_out(client: TestClient, settings: Settings) -> None:
    add(settings, "ayse")
    wrong = client.post("/api/v1/auth/login", json={"username": "ayse", "password": "nope"})
    assert wrong.status_code == 401 and "wrong username or password" in wrong.json()["error"]
    ghost = client.post("/api/v1/auth/login", json={"username": "ghost", "password": PASSWORD})
    assert ghost.status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/events").status_code == 401  # live updates need a session too
    ok = client.post("/api/v1/auth/login", json={"username": "AYSE", "password": PASSWORD})
    assert ok.status_code == 200
    cookie = ok.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/api/v1/auth/me").json()["operator"]["username"] == "ayse"
    # a state change with the cookie alone (a forged cross-site form) is refused
    assert client.post("/api/v1/handovers/1/claim").status_code == 403
    csrf = {"X-CSRF-Token": ok.json()["csrf_token"]}
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {ok.json()['token']}"}  # API clients: no CSRF needed
    assert client.get("/api/v1/handovers", headers=bearer).status_code == 200
    assert client.post("/api/v1/handovers/1/claim", headers=bearer).status_code == 404
    assert client.post("/api/v1/auth/logout", headers=bearer | csrf).status_code == 204
    assert client.get("/api/v1/handovers", headers=bearer).status_code == 401  # session gone


def test_repeated_failed_sign_ins_are_slowed_down(client: TestClient, settings: Settings) -> None:
    add(settings, "omid")
    codes = [
        client.post("/api/v1/auth/login", json={"username": "omid", "password": "x"}).status_code
        for _ in range(6)
    ]
    assert codes == [401] * 5 + [429]
    right = client.post("/api/v1/auth/login", json={"username": "omid", "password": PASSWORD})
    assert right.status_code == 429  # even the right password waits


def test_claim_reply_transfer_close_and_the_bot_resumes(
    client: TestClient, settings: Settings, team: dict[str, SignedIn]
) -> None:
    ayse, omid, selin = team["ayse"], team["omid"], team["selin"]
    handover_id = new_handover(settings, "whatsapp:+905550000001")
    queue = ayse.get("/api/v1/handovers", params={"state": "queued"}).json()["handovers"]
    assert [h["id"] for h in queue] == [handover_id]
    assert queue[0]["preview"].startswith("<script>")  # raw text; the page escapes it
    conversation_id = queue[0]["conversation_id"]
    # replying before claiming, or to someone else's chat, is refused
    assert (
        ayse.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "x"}).status_code
        == 403
    )
    claimed = ayse.post(f"/api/v1/handovers/{handover_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["handover"]["mine"] is True
    again = omid.post(f"/api/v1/handovers/{handover_id}/claim")
    assert again.status_code == 409
    assert omid.post(
        f"/api/v1/conversations/{conversation_id}/messages", {"text": "x"}
    ).status_code in (403, 404)
    sent = ayse.post(
        f"/api/v1/conversations/{conversation_id}/messages", {"text": "Merhaba, ben Ayşe."}
    )
    assert sent.status_code == 201 and sent.json()["message"]["from"] == "operator"
    too_long = ayse.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "x" * 4001})
    assert too_long.status_code == 422
    note = ayse.post(f"/api/v1/handovers/{handover_id}/notes", {"text": "asked about kimlik"})
    assert note.status_code == 201
    view = ayse.get(f"/api/v1/conversations/{conversation_id}").json()
    assert [m["from"] for m in view["messages"]] == [
        "user",
        "bot",
        "operator",
    ]  # bot: "a person is here"
    assert (
        view["messages"][2]["operator"] == "Ayşe"
        and view["notes"][0]["text"] == "asked about kimlik"
    )
    # a transfer to Selin (supervisor); Ayşe no longer holds it
    moved = ayse.post(
        f"/api/v1/handovers/{handover_id}/transfer", {"operator_id": selin_id(settings)}
    )
    assert (
        moved.status_code == 200 and moved.json()["handover"]["operator"]["display_name"] == "Selin"
    )
    assert (
        ayse.post(f"/api/v1/handovers/{handover_id}/close", {"outcome": "resolved"}).status_code
        == 403
    )
    assert (
        selin.post(f"/api/v1/handovers/{handover_id}/close", {"outcome": "bogus"}).status_code
        == 422
    )
    closed = selin.post(f"/api/v1/handovers/{handover_id}/close", {"outcome": "resolved"})
    assert closed.status_code == 200 and closed.json()["handover"]["state"] == "closed"
    assert (
        ayse.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "late"}).status_code
        == 409
    )
    assert selin.post(f"/api/v1/handovers/{handover_id}/claim").status_code == 409

    async def check(session: Any) -> None:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation.mode == "bot"  # the bot answers again
        control = await session.scalar(
            select(InboundRecord).where(InboundRecord.platform_id.like("uyum:%"))
        )
        assert control.text == "/handover_closed" and control.status == "pending"
        rows = (await session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))).all()
        assert [(r.kind, r.body["text"][:7]) for r in rows] == [
            ("reply", rows[0].body["text"][:7]),
            ("operator", "Merhaba"),
        ]
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
        for action in ("handover_opened", "handover_claimed", "reply_sent", "note_added",
                       "handover_transferred", "handover_closed"):  # fmt: skip
            assert action in actions
        details = (await session.scalars(select(AuditEntry.detail))).all()
        assert "Merhaba" not in str(details)  # the audit log holds no message text

    in_db(settings, check)


def selin_id(settings: Settings) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(Operator.id).where(Operator.username == "selin")))

    return int(in_db(settings, work))


def _claim(who: SignedIn, handover_id: int, barrier: threading.Barrier, out: list[int]) -> None:
    barrier.wait()
    out.append(who.post(f"/api/v1/handovers/{handover_id}/claim").status_code)


def test_two_operators_claiming_at_once_exactly_one_wins(
    client: TestClient, settings: Settings, team: dict[str, SignedIn]
) -> None:
    for round_ in range(5):
        handover_id = new_handover(settings, f"whatsapp:+90555000010{round_}")
        results: list[int] = []
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=_claim, args=(team[n], handover_id, barrier, results))
            for n in ("ayse", "selin")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [200, 409], results


def test_who_may_see_what(
    client: TestClient, settings: Settings, team: dict[str, SignedIn]
) -> None:
    ayse, omid, selin, admin = team["ayse"], team["omid"], team["selin"], team["admin"]
    handover_id = new_handover(settings, "whatsapp:+905550000002", language="fa")
    omid.post(f"/api/v1/handovers/{handover_id}/claim")
    conversation_id = omid.get("/api/v1/handovers").json()["handovers"][0]["conversation_id"]
    omid.post(f"/api/v1/handovers/{handover_id}/close", {"outcome": "resolved"})
    # Omid's team (south) closed it: Ayşe (north) may not read it; the supervisor may
    assert ayse.get(f"/api/v1/conversations/{conversation_id}").status_code == 404
    assert ayse.get("/api/v1/handovers", params={"state": "closed"}).json()["handovers"] == []
    assert selin.get(f"/api/v1/conversations/{conversation_id}").status_code == 200
    assert omid.get(f"/api/v1/conversations/{conversation_id}").status_code == 200
    assert ayse.get("/api/v1/conversations/99999").status_code == 404
    assert ayse.post("/api/v1/handovers/99999/claim").status_code == 404
    # only an admin manages accounts
    account = {"username": "new.op", "password": PASSWORD, "languages": ["ps"]}
    assert selin.post("/api/v1/operators", account).status_code == 403
    assert admin.post("/api/v1/operators", account).status_code == 201
    assert admin.post("/api/v1/operators", account).status_code == 409
    assert admin.post("/api/v1/operators/new.op/disable").status_code == 200
    gone = client.post("/api/v1/auth/login", json={"username": "new.op", "password": PASSWORD})
    assert gone.status_code == 401
    # only an admin reloads content; here no action server runs: a clear 503, not a 500
    assert selin.post("/api/v1/admin/kb/reload").status_code == 403
    down = admin.post("/api/v1/admin/kb/reload")
    assert down.status_code == 503 and "action server" in down.json()["error"]


def test_a_new_chat_is_offered_first_to_those_who_read_its_language(
    client: TestClient, settings: Settings, team: dict[str, SignedIn]
) -> None:
    new_handover(settings, "whatsapp:+905550000003", language="fa")
    new_handover(settings, "whatsapp:+905550000004", language="ar", priority=1)

    async def visible(session: Any) -> dict[str, list[tuple[str | None, int]]]:
        seen = {}
        for name in ("ayse", "omid", "selin"):
            me = await session.scalar(select(Operator).where(Operator.username == name))
            rows = await list_handovers(session, me, QueueFilter(), offer_seconds=60)
            seen[name] = [(h.language, h.priority) for h in rows]
        return seen

    seen = in_db(settings, visible)
    assert seen["omid"] == [("fa", 0)]  # Ayşe reads Arabic: the Arabic chat is hers first
    assert seen["ayse"] == [("ar", 1)]  # urgent first; the Persian one is Omid's first
    assert seen["selin"] == [("ar", 1), ("fa", 0)]  # a supervisor sees every queue

    async def later(session: Any) -> list[Any]:
        me = await session.scalar(select(Operator).where(Operator.username == "omid"))
        return [
            h.language for h in await list_handovers(session, me, QueueFilter(), offer_seconds=0)
        ]

    assert in_db(settings, later) == ["ar", "fa"]  # after the offer, everyone sees it


def test_the_console_page_is_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/console")
    assert (
        page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    )
    assert client.get("/console/static/console.js").status_code == 200
    schema = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/auth/login",
        "/api/v1/handovers",
        "/api/v1/handovers/{handover_id}/claim",
        "/api/v1/conversations/{conversation_id}",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/handovers/{handover_id}/transfer",
        "/api/v1/handovers/{handover_id}/close",
    ):
        assert path in schema


def test_an_expired_session_must_sign_in_again(client: TestClient, settings: Settings) -> None:
    add(settings, "ayse")
    ayse = SignedIn(client, "ayse")
    assert ayse.get("/api/v1/auth/me").status_code == 200

    async def expire(session: Any) -> None:
        await session.execute(
            update(OperatorSession).values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )

    in_db(settings, expire)
    expired = ayse.get("/api/v1/auth/me")
    assert expired.status_code == 401 and "sign in" in expired.json()["error"]
    assert ayse.post("/api/v1/handovers/1/claim").status_code == 401
