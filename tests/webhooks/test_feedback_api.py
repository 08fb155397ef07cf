"""Complaints and the dashboard through the operator API: who reads what, figures, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import analytics
from bot.analytics import KbDecision, ReportedQuestion
from bot.complaints import NewComplaint, new_reference, store
from bot.models import (
    AnswerFeedback,
    AuditEntry,
    Conversation,
    Handover,
    KbTurn,
    utcnow,
)
from bot.settings import Settings
from tests.webhooks.test_operator_api import SignedIn, add, in_db


@pytest.fixture
def office(client: TestClient, settings: Settings) -> Iterator[dict[str, SignedIn]]:
    add(settings, "ayse")  # a plain operator
    add(settings, "selin", role="supervisor")
    add(settings, "pinar", role="protection")
    yield {name: SignedIn(client, name) for name in ("ayse", "selin", "pinar")}


def complaints(settings: Settings) -> dict[str, str]:
    made = {
        "fraud": NewComplaint(new_reference(), "fraud", '=HYPERLINK("x") asked money', False),
        "conduct": NewComplaint(new_reference(), "staff_conduct", "he shouted at me", True),
    }

    async def work(session: Any) -> None:
        chat = Conversation(channel="whatsapp", user_ref="+905320000001", language="ar")
        session.add(chat)
        await session.flush()
        for new in made.values():
            store(session, chat, new)

    in_db(settings, work)
    return {name: new.reference for name, new in made.items()}


def test_a_conduct_report_is_for_the_protection_role_only(
    office: dict[str, SignedIn], settings: Settings
) -> None:
    refs = complaints(settings)
    ayse, selin, pinar = office["ayse"], office["selin"], office["pinar"]
    assert ayse.get("/api/v1/complaints").status_code == 403
    assert ayse.get(f"/api/v1/complaints/{refs['fraud']}").status_code == 403
    listed = selin.get("/api/v1/complaints").json()
    assert [c["reference"] for c in listed["complaints"]] == [refs["fraud"]]
    assert listed["can_read_confidential"] is False
    assert selin.get(f"/api/v1/complaints/{refs['conduct']}").status_code == 403
    assert (
        selin.post(f"/api/v1/complaints/{refs['conduct']}/status", {"status": "closed"}).status_code
        == 403
    )
    seen = pinar.get("/api/v1/complaints").json()["complaints"]
    assert {c["reference"] for c in seen} == set(refs.values())
    conduct = pinar.get(f"/api/v1/complaints/{refs['conduct'].lower()}").json()
    assert conduct["text"] == "he shouted at me" and conduct["anonymous"] is True

    changed = selin.post(f"/api/v1/complaints/{refs['fraud']}/status", {"status": "in_review"})
    assert changed.status_code == 200 and changed.json()["status"] == "in_review"
    assert (
        selin.post(f"/api/v1/complaints/{refs['fraud']}/status", {"status": "lost"}).status_code
        == 422
    )
    assert selin.get("/api/v1/complaints/UY-0000-0000").status_code == 404
    assert (
        selin.get("/api/v1/complaints?status=in_review").json()["complaints"][0]["status"]
        == "in_review"
    )

    async def audited(session: Any) -> list[str]:
        return list((await session.scalars(select(AuditEntry.action))).all())

    actions = in_db(settings, audited)
    assert {"complaints_read", "complaint_read", "complaint_status"} <= set(actions)


def traffic(settings: Settings) -> None:
    now = utcnow()

    async def work(session: Any) -> None:
        chats = [
            Conversation(channel="telegram", user_ref="t1", language="tr"),
            Conversation(channel="whatsapp", user_ref="w1", language="ar"),
        ]
        session.add_all(chats)
        await session.flush()
        for chat in chats * 3:  # as the worker counts the messages it handles
            await analytics.count_message(session, chat)
        for outcome, entry in [("answer", "residence-permit")] * 3 + [("fallback", None)]:
            session.add(KbTurn(channel="telegram", language="tr", outcome=outcome, entry_id=entry))
        session.add_all(
            [
                AnswerFeedback(entry_id="=cmd|' /C calc'!A0", channel="telegram", score=1),
                AnswerFeedback(entry_id="residence-permit", channel="telegram", score=1),
                AnswerFeedback(entry_id="residence-permit", channel="whatsapp", score=-1),
            ]
        )
        session.add(
            Handover(
                conversation_id=chats[0].id,
                reason="asked",
                channel="telegram",
                created_at=now - dt.timedelta(minutes=10),
                assigned_at=now - dt.timedelta(minutes=8),
                closed_at=now - dt.timedelta(minutes=2),
                state="closed",
            )
        )

    in_db(settings, work)


def test_the_dashboard_counts_and_exports_without_formulas(
    office: dict[str, SignedIn], settings: Settings
) -> None:
    traffic(settings)
    complaints(settings)
    selin = office["selin"]
    assert office["ayse"].get("/api/v1/analytics/summary").status_code == 403
    figures = selin.get("/api/v1/analytics/summary?days=7").json()
    assert sum(r["messages"] for r in figures["messages_per_day"]) == 6
    assert {(r["channel"], r["language"]) for r in figures["messages_per_day"]} == {
        ("telegram", "tr"),
        ("whatsapp", "ar"),
    }
    assert figures["answer_rate"] == {"answer": 3, "clarify": 0, "fallback": 1}
    assert figures["top_entries"] == [{"entry_id": "residence-permit", "answers": 3}]
    ratio = {r["entry_id"]: r["ratio"] for r in figures["feedback"]}
    assert ratio["residence-permit"] == 0.5
    assert figures["handovers"]["count"] == 1
    assert figures["handovers"]["waiting_seconds"]["p50"] == pytest.approx(120, abs=1)
    assert figures["handovers"]["handling_seconds"]["p50"] == pytest.approx(360, abs=1)
    assert "complaint" not in str(figures) and "+90532" not in str(figures)

    exported = selin.get("/api/v1/analytics/feedback.csv?days=7")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0] == ["entry_id", "up", "down", "ratio"]
    cells = [row[0] for row in table[1:]]
    assert "'=cmd|' /C calc'!A0" in cells  # shown as text, never run as a formula
    for name in ("messages_per_day", "answer_rate", "top_entries", "handovers", "broadcasts"):
        response = selin.get(f"/api/v1/analytics/{name}.csv")
        assert response.status_code == 200, name
        assert response.text.splitlines()[0].count(",") >= 1, name  # a header, even if empty
    assert selin.get("/api/v1/analytics/broadcasts.csv").text.startswith("id,title,recipients")
    assert selin.get("/api/v1/analytics/people.csv").status_code == 422
    assert selin.get("/api/v1/analytics/summary?days=0").status_code == 422


def test_content_gaps_are_listed_for_editors_and_become_draft_entries(
    client: TestClient, settings: Settings, office: dict[str, SignedIn]
) -> None:
    add(settings, "emre", role="editor")
    emre = SignedIn(client, "emre")
    questions = [
        "How can I open a bank account?",
        "which bank lets foreigners open an account",
        "opening bank account as a refugee",
        "Can I use my Syrian driving licence in Turkey?",
        "how to convert my foreign driver's license",
    ]

    async def work(session: Any) -> None:
        chat = Conversation(channel="telegram", user_ref="t9", language="en")
        for text in questions:
            question = ReportedQuestion.from_payload(
                text, None
            )  # no NLU vector: embedded on the spot
            analytics.record(session, chat, [KbDecision("fallback", None, 0.7, question)])

    in_db(settings, work)
    assert office["ayse"].get("/api/v1/analytics/gaps").status_code == 403
    listed = emre.get("/api/v1/analytics/gaps?days=30&language=en").json()
    assert [(c["number"], c["size"]) for c in listed["clusters"]] == [(1, 3), (2, 2)]
    assert "bank" in listed["clusters"][0]["examples"][0].lower()
    draft = emre.get("/api/v1/analytics/gaps/1/draft?days=30&language=en").json()
    assert draft["filename"].startswith("draft-") and draft["filename"].endswith(".yml")
    assert "Never guess a fee" in draft["yaml"] and "bank" in draft["yaml"].lower()
    assert emre.get("/api/v1/analytics/gaps/3/draft?days=30&language=en").status_code == 404
    assert emre.get("/api/v1/analytics/gaps?language=<script>").status_code == 422
