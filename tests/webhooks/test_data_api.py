"""Personal data in the gateway: the admin erasure API, the privacy page, headers and limits."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.inbound import conversation_for
from bot.models import AuditEntry, Conversation
from bot.settings import Settings
from tests.webhooks.test_operator_api import SignedIn, add, in_db


def a_whatsapp_user(settings: Settings, number: str) -> None:
    async def work(session: Any) -> None:
        await conversation_for(session, settings.identities(), "whatsapp", number)

    in_db(settings, work)


def conversations(settings: Settings) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(Conversation)))

    return int(in_db(settings, work))


def test_only_an_admin_erases_and_the_answer_never_tells_who_existed(
    client: TestClient, settings: Settings
) -> None:
    add(settings, "admin", role="admin")
    add(settings, "selin", role="supervisor")
    admin, selin = SignedIn(client, "admin"), SignedIn(client, "selin")
    a_whatsapp_user(settings, "whatsapp:+905551230000")
    request = {"channel": "whatsapp", "user": "+90 555 123 00 00"}
    refused = selin.post("/api/v1/data/erasures", request)
    assert refused.status_code == 403 and conversations(settings) == 1
    known = admin.post("/api/v1/data/erasures", request)
    unknown = admin.post("/api/v1/data/erasures", {"channel": "whatsapp", "user": "+905559999999"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert conversations(settings) == 0
    bad = admin.post("/api/v1/data/erasures", {"channel": "whatsapp", "user": "alice"})
    assert bad.status_code == 400 and "phone number" in bad.json()["error"]
    assert admin.post("/api/v1/data/erasures", {"channel": "sms", "user": "1"}).status_code == 422
    log = admin.get("/api/v1/data/deletions").json()["deletions"]
    assert [(d["kind"], d["via"]) for d in log] == [("erasure", "api")] * 2
    assert {d["counts"].get("conversations") for d in log} == {1, None}

    async def audited(session: Any) -> list[tuple[str, dict[str, Any]]]:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == "data_erasure"))
        return [(r.action, r.detail) for r in rows]

    assert in_db(settings, audited) == [("data_erasure", {"channel": "whatsapp"})] * 2  # no id
    assert selin.get("/api/v1/data/deletions").status_code == 403
    purged = admin.post("/api/v1/data/purges")
    assert purged.status_code == 200 and purged.json() == {"destroyed": {}}


def test_the_privacy_notice_page_in_each_language(client: TestClient, settings: Settings) -> None:
    arabic = client.get("/privacy", params={"lang": "ar"})
    assert arabic.status_code == 200 and 'lang="ar" dir="rtl"' in arabic.text
    assert str(settings.retention_days) in arabic.text and "{days}" not in arabic.text
    turkish = client.get("/privacy", headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"})
    assert 'lang="tr" dir="ltr"' in turkish.text and "KVKK" in turkish.text
    odd = client.get("/privacy", params={"lang": "<script>"})
    assert odd.status_code == 200 and 'lang="en"' in odd.text and "<script>" not in odd.text


def test_every_answer_carries_security_headers_and_hsts_over_https(client: TestClient) -> None:
    plain = client.get("/health/live")
    assert plain.json() == {"ok": True}
    assert plain.headers["x-frame-options"] == "DENY"
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in plain.headers["content-security-policy"]
    assert "strict-transport-security" not in plain.headers
    secure = client.get("/health/live", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers.get("strict-transport-security") is None  # only from a trusted proxy
    https = TestClient(client.app, base_url="https://testserver")
    assert "max-age=" in https.get("/health/live").headers["strict-transport-security"]
    assert client.get("/console").headers["content-security-policy"].startswith("default-src")


def test_oversized_bodies_are_refused_before_any_route_reads_them(
    client: TestClient, settings: Settings
) -> None:
    big = b"x" * (settings.max_request_bytes + 1)
    declared = client.post("/api/v1/auth/login", content=big)
    assert declared.status_code == 413 and "over" in declared.json()["error"]

    def chunks() -> Any:  # no Content-Length: counted as it streams
        for _ in range(settings.max_request_bytes // 65536 + 2):
            yield b"y" * 65536

    streamed = client.post("/api/v1/auth/login", content=chunks())
    assert streamed.status_code == 413
