"""Announcements through the operator API, in-process on SQLite: roles, the two-person rule,
refusals with their reasons, and a broadcast followed until every recipient has it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.models import AuditEntry, Conversation, Subscription, utcnow
from bot.settings import Settings
from tests.webhooks.test_operator_api import SignedIn, add, in_db

TEXTS = {"tr": "Cuma toplantısı 10:00'da.", "ar": "الاجتماع يوم الجمعة 10:00.",
         "fa": "جلسه جمعه ساعت 10:00.", "en": "The meeting is on Friday at 10:00."}  # fmt: skip
SID = "HX" + "0" * 32  # a WhatsApp Content template


def subscribers(settings: Settings, languages: list[str], opted_out: int = 0) -> None:
    """Sandbox Telegram users subscribed to meetings (their messages land in the mailbox)."""

    ids = settings.identities()  # the gateway's keys: the sender must open the addresses

    async def work(session: Any) -> None:
        for i, language in enumerate(languages):
            conversation = Conversation(
                channel="sandbox-telegram",
                user_ref=ids.pseudonym("sandbox-telegram", f"sub{i}"),
                address=ids.seal(f"sub{i}"),
                language=language,
                opted_out_at=utcnow() if i < opted_out else None,
            )
            session.add(conversation)
            await session.flush()
            session.add(Subscription(conversation_id=conversation.id, topic="informative-meetings"))

    in_db(settings, work)


@pytest.fixture
def office(client: TestClient, settings: Settings) -> Iterator[dict[str, SignedIn]]:
    add(settings, "ayse")  # an operator: conversations only
    add(settings, "deniz", role="editor")
    add(settings, "selin", role="supervisor")
    yield {name: SignedIn(client, name) for name in ("ayse", "deniz", "selin")}


def draft(**changes: Any) -> dict[str, Any]:
    return {"title": "Friday meeting", "topics": ["informative-meetings"],
            "translations": dict(TEXTS), **changes}  # fmt: skip


def test_write_preview_approve_send_and_follow(
    office: dict[str, SignedIn], settings: Settings
) -> None:
    subscribers(settings, ["tr", "ar", "fa", "ps", "en"], opted_out=1)
    deniz, selin = office["deniz"], office["selin"]
    options = deniz.get("/api/v1/broadcasts/options").json()
    assert "informative-meetings" in {t["id"] for t in options["topics"]}
    assert (options["can_write"], options["can_approve"]) == (True, False)

    made = deniz.post("/api/v1/broadcasts", draft())
    assert made.status_code == 201, made.text
    broadcast = made.json()
    assert broadcast["state"] == "draft" and broadcast["created_by"] == "deniz"
    assert broadcast["preview"]["ps"] == {"language": "fa", "text": TEXTS["fa"]}  # fallback
    assert broadcast["dry_run"]["recipients"] == 4  # the one who sent STOP is not counted
    path = f"/api/v1/broadcasts/{broadcast['id']}"

    own = deniz.post(f"{path}/approve")
    assert own.status_code == 403 and "supervisor" in own.json()["error"]
    approved = selin.post(f"{path}/approve")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert selin.post(f"{path}/approve").status_code == 409
    assert selin.post(f"{path}/send-now").json()["send_at"] is not None

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = selin.get(path).json()["status"]
        if status["done"] and status["queued"] == 0:
            break
        time.sleep(0.2)
    assert status["state"] == "sent", status
    assert (status["recipients"], status["sent"], status["skipped"]) == (4, 4, 0)
    listed = selin.get("/api/v1/broadcasts").json()["broadcasts"]
    assert listed[0]["id"] == broadcast["id"] and listed[0]["sent"] == 4
    assert selin.post(f"{path}/cancel").status_code == 409  # already sent

    actions = in_db(
        settings,
        lambda s: s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("broadcast%"))),
    )
    assert set(actions) >= {"broadcast_created", "broadcast_approved", "broadcast_sent_now"}


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"translations": {"tr": "x", "en": "y"}}, 400, "no text in ar, fa"),
        ({"topics": ["football"]}, 400, "topics must be"),
        ({"send_at": "2020-01-01T10:00:00"}, 400, "in the past"),
        (
            {"template_sid": "HX" + "0" * 32, "translations": {**TEXTS, "en": "a\nb"}},
            400,
            "one line",
        ),
        ({"template_sid": "not-a-content-sid"}, 422, "template_sid"),
        ({"channels": ["fax"]}, 422, "channels"),
        ({"title": ""}, 422, "title"),
    ],
)
def test_what_must_never_be_sent_is_refused_with_its_reason(
    office: dict[str, SignedIn], changes: dict[str, Any], status: int, reason: str
) -> None:
    response = office["deniz"].post("/api/v1/broadcasts", draft(**changes))
    assert response.status_code == status, response.text
    assert reason in response.text
    assert office["deniz"].get("/api/v1/broadcasts").json()["broadcasts"] == []  # nothing stored


def test_roles_and_an_empty_audience(office: dict[str, SignedIn], settings: Settings) -> None:
    ayse, deniz, selin = office["ayse"], office["deniz"], office["selin"]
    refused = ayse.post("/api/v1/broadcasts", draft())
    assert refused.status_code == 403 and "editors" in refused.json()["error"]
    nobody = deniz.post("/api/v1/broadcasts", draft()).json()  # no subscribers at all
    assert nobody["dry_run"]["recipients"] == 0
    path = f"/api/v1/broadcasts/{nobody['id']}"
    empty = selin.post(f"{path}/approve")
    assert empty.status_code == 400 and "empty audience" in empty.json()["error"]
    assert selin.post(f"{path}/send-now").status_code == 409  # not approved
    assert ayse.post(f"{path}/cancel").status_code == 403
    cancelled = deniz.post(f"{path}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert selin.get("/api/v1/broadcasts/999").status_code == 404
    assert deniz.http.get("/api/v1/broadcasts").status_code == 401  # signed out
