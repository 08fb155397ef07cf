"""Announcements in the operator API (``/api/v1/broadcasts``): write, preview, approve, follow.

The same service as ``uyum broadcast`` (bot/broadcasts.py): editors, supervisors and admins
write; a supervisor or admin who did not write it approves; the gateway's runner sends it at
its send time. Every change is audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from bot import broadcasts
from bot.audit import audit
from bot.models import Broadcast, aware, utcnow
from bot.provinces import PROVINCES
from bot.topics import REQUIRED_LANGUAGES, load_topics
from common.errors import ConflictError
from webhooks.console_auth import Console, ConsoleDep, require_role
from webhooks.deps import RowId
from webhooks.routes.operator_api import operator_names

router = APIRouter(prefix="/api/v1", tags=["broadcasts"])
CHANNELS = ("telegram", "whatsapp")
#: the dry run walks the whole audience: only while the recipients are not yet queued
BEFORE_SENDING = ("draft", "approved")


class NewBroadcast(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    topics: list[str] = Field(min_length=1, max_length=20)
    translations: dict[str, str] = Field(max_length=20)  # language -> announcement
    missing_translation: Literal["fallback", "skip"] = "fallback"
    languages: list[str] = Field(default_factory=list, max_length=20)
    channels: list[Literal["telegram", "whatsapp"]] = Field(default_factory=list, max_length=2)
    provinces: list[str] = Field(default_factory=list, max_length=81)
    template_sid: str | None = Field(None, pattern=r"^HX[0-9a-fA-F]{32}$")
    send_at: dt.datetime | None = None  # without a zone: the office's time; None: on approval


@router.get("/broadcasts/options")
async def options(console: ConsoleDep) -> dict[str, Any]:
    """What a broadcast can be about and aimed at: topics (named per language), filters."""
    settings = console.state.settings
    return {
        "topics": [{"id": t.id, "names": t.names} for t in load_topics(settings.topics_file)],
        "channels": list(CHANNELS),
        "provinces": list(PROVINCES),
        "required_languages": list(REQUIRED_LANGUAGES),
        "can_write": console.operator.role in broadcasts.WRITERS,
        "can_approve": console.operator.role in broadcasts.APPROVERS,
    }


@router.get("/broadcasts")
async def list_broadcasts(
    console: ConsoleDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict[str, Any]:
    rows = (
        await console.session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
    ).all()
    names = await operator_names(console)
    return {
        "broadcasts": [
            {**broadcast_json(b, names), **await broadcasts.status(console.session, b)}
            for b in rows
        ]
    }


@router.post("/broadcasts", status_code=201)
async def create(body: NewBroadcast, console: ConsoleDep) -> dict[str, Any]:
    settings = console.state.settings
    send_at = body.send_at
    if send_at is not None and send_at.tzinfo is None:
        send_at = send_at.replace(tzinfo=settings.office.zone)
    draft = broadcasts.Draft(
        body.title, body.topics, body.translations, body.missing_translation, body.languages,
        list(body.channels), body.provinces, body.template_sid, send_at,
    )  # fmt: skip
    async with console.state.gate():
        made = await broadcasts.create(
            console.session, draft, load_topics(settings.topics_file), console.operator
        )
        await console.session.commit()
    return await _detail(console, made)


@router.get("/broadcasts/{broadcast_id}")
async def detail(broadcast_id: RowId, console: ConsoleDep) -> dict[str, Any]:
    return await _detail(console, await broadcasts.get(console.session, broadcast_id))


@router.post("/broadcasts/{broadcast_id}/approve")
async def approve(broadcast_id: RowId, console: ConsoleDep) -> dict[str, Any]:
    order = console.state.settings.fallback_order
    async with console.state.gate():
        broadcast = await broadcasts.get(console.session, broadcast_id)
        await broadcasts.approve(console.session, broadcast, console.operator, order)
        await console.session.commit()
    return await _detail(console, broadcast)


@router.post("/broadcasts/{broadcast_id}/send-now")
async def send_now(broadcast_id: RowId, console: ConsoleDep) -> dict[str, Any]:
    """An approved broadcast goes now instead of at its send time."""
    require_role(console, *broadcasts.APPROVERS)
    async with console.state.gate():
        broadcast = await broadcasts.get(console.session, broadcast_id)
        if broadcast.state != "approved":
            raise ConflictError(f"this broadcast is {broadcast.state}, not approved")
        broadcast.send_at = utcnow()
        audit(console.session, console.operator.id, "broadcast_sent_now", broadcast_id=broadcast.id)
        await console.session.commit()
    return await _detail(console, broadcast)


@router.post("/broadcasts/{broadcast_id}/cancel")
async def cancel(broadcast_id: RowId, console: ConsoleDep) -> dict[str, Any]:
    async with console.state.gate():
        broadcast = await broadcasts.get(console.session, broadcast_id)
        stopped = await broadcasts.cancel(console.session, broadcast, console.operator)
        await console.session.commit()
    return {**await _detail(console, broadcast), "stopped": stopped}


async def _detail(console: Console, broadcast: Broadcast) -> dict[str, Any]:
    """The broadcast, its per-language preview, its recipients' fate and (before sending) the
    dry run's counts."""
    order = console.state.settings.fallback_order
    names = await operator_names(console)
    body = {
        **broadcast_json(broadcast, names),
        "preview": broadcasts.preview(broadcast, order),
        "status": await broadcasts.status(console.session, broadcast),
    }
    if broadcast.state in BEFORE_SENDING:
        body["dry_run"] = await broadcasts.dry_run(console.session, broadcast, order)
    return body


def broadcast_json(broadcast: Broadcast, names: dict[int, str]) -> dict[str, Any]:
    def when(value: dt.datetime | None) -> str | None:
        return aware(value).isoformat() if value else None  # SQLite gives them back naive

    return {
        "id": broadcast.id,
        "title": broadcast.title,
        "state": broadcast.state,
        "topics": broadcast.topics,
        "translations": broadcast.translations,
        "missing_translation": broadcast.missing_translation,
        "languages": broadcast.languages,
        "channels": broadcast.channels,
        "provinces": broadcast.provinces,
        "template_sid": broadcast.template_sid,
        "send_at": when(broadcast.send_at),
        "created_by": names.get(broadcast.created_by or 0),
        "created_by_id": broadcast.created_by,  # the writer may not approve
        "approved_by": names.get(broadcast.approved_by or 0),
        "created_at": when(broadcast.created_at),
        "approved_at": when(broadcast.approved_at),
        "started_at": when(broadcast.started_at),
        "finished_at": when(broadcast.finished_at),
    }
