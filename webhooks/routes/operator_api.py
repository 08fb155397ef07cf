"""The operator REST API (``/api/v1``): sign-in, queue, claim, conversation, reply, close.

Used by the console page and by tests; documented in the gateway's OpenAPI (``/docs``).
Every change runs under the write gate in one transaction with its audit entry and the
console event that updates open pages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from bot import handover as service
from bot.audit import audit
from bot.models import (
    Conversation,
    Handover,
    HandoverNote,
    InboundRecord,
    Operator,
    OutboxRecord,
    aware,
    utcnow,
)
from bot.operators import (
    Role,
    add_operator,
    authenticate,
    end_session,
    session_for,
    set_active,
    start_session,
)
from common.errors import NotFoundError, UnauthorizedError, UpstreamError
from knowledge_base.canned import canned_replies
from webhooks.console_auth import (
    COOKIE,
    Console,
    ConsoleDep,
    request_token,
    require_role,
)
from webhooks.deps import RowId, StateDep

router = APIRouter(prefix="/api/v1", tags=["operators"])
HEARTBEAT_SECONDS = 15.0


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Text(BaseModel):
    text: str = Field(min_length=1, max_length=service.MAX_TEXT)


class TransferTo(BaseModel):
    operator_id: int | None = Field(None, ge=1, le=2**31 - 1)  # None: back to the queue


class Closing(BaseModel):
    outcome: service.Outcome


class NewOperator(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field("", max_length=120)
    role: Role = "operator"
    team: str = Field("general", max_length=40)
    languages: list[str] = Field(default_factory=list, max_length=20)


# --- sign-in --------------------------------------------------------------------------
@router.post("/auth/login")
async def login(body: Login, response: Response, state: StateDep) -> dict[str, Any]:
    throttle = state.login_throttle
    throttle.check(body.username)
    async with state.sessions() as session, state.gate():
        operator = await authenticate(session, body.username, body.password)
        if operator is None:
            throttle.failed(body.username)
            await session.rollback()
            raise UnauthorizedError("wrong username or password")
        new = await start_session(session, operator, state.settings.console_session_hours)
        audit(session, operator.id, "signed_in")
        await session.commit()
    throttle.succeeded(body.username)
    response.set_cookie(
        COOKIE,
        new.token,
        max_age=int(state.settings.console_session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=state.settings.console_secure_cookie,
        path="/",
    )
    return {
        "operator": operator_json(operator),
        "csrf_token": new.csrf_token,
        "token": new.token,
        "outcomes": list(service.OUTCOMES),
    }


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, response: Response, console: ConsoleDep) -> None:
    async with console.state.gate():
        await end_session(console.session, request_token(request)[0])
        audit(console.session, console.operator.id, "signed_out")
        await console.session.commit()
    response.delete_cookie(COOKIE, path="/")


@router.get("/auth/me")
async def me(console: ConsoleDep) -> dict[str, Any]:
    return {
        "operator": operator_json(console.operator),
        "csrf_token": console.csrf_token,
        "outcomes": list(service.OUTCOMES),
    }


# --- queue and handovers ----------------------------------------------------------------
@router.get("/handovers")
async def list_handovers(
    console: ConsoleDep,
    state: Annotated[Literal["open", "queued", "assigned", "closed"], Query()] = "open",
    language: Annotated[str | None, Query(max_length=8)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    priority: Annotated[Literal["urgent", "normal"] | None, Query()] = None,
) -> dict[str, Any]:
    rows = await service.list_handovers(
        console.session,
        console.operator,
        service.QueueFilter(state, language or None, channel or None, priority),
        offer_seconds=console.state.settings.handover_offer_seconds,
    )
    return {"handovers": await handovers_json(console, rows)}


@router.post("/handovers/{handover_id}/claim")
async def claim(handover_id: RowId, console: ConsoleDep) -> dict[str, Any]:
    async with console.state.gate():
        handover = await service.claim(
            console.session, handover_id, console.operator, console.state.adapters.get
        )
        await console.session.commit()
    console.state.worker.outbox_ready.set()  # the user hears that a person is there
    return {"handover": (await handovers_json(console, [handover]))[0]}


@router.post("/handovers/{handover_id}/transfer")
async def transfer(handover_id: RowId, body: TransferTo, console: ConsoleDep) -> dict[str, Any]:
    async with console.state.gate():
        handover = await service.transfer(
            console.session, handover_id, console.operator, body.operator_id
        )
        await console.session.commit()
    return {"handover": (await handovers_json(console, [handover]))[0]}


@router.post("/handovers/{handover_id}/close")
async def close(handover_id: RowId, body: Closing, console: ConsoleDep) -> dict[str, Any]:
    async with console.state.gate():
        handover = await service.close(console.session, handover_id, console.operator, body.outcome)
        await console.session.commit()
    console.state.worker.notify()  # when the worker runs here; else it polls
    return {"handover": (await handovers_json(console, [handover]))[0]}


@router.post("/handovers/{handover_id}/notes", status_code=201)
async def add_note(handover_id: RowId, body: Text, console: ConsoleDep) -> dict[str, Any]:
    async with console.state.gate():
        note = await service.add_note(console.session, handover_id, console.operator, body.text)
        await console.session.commit()
    return {"note": note_json(note, console.operator.display_name)}


# --- conversations ---------------------------------------------------------------------
@router.get("/conversations/{conversation_id}")
async def conversation(conversation_id: RowId, console: ConsoleDep) -> dict[str, Any]:
    session = console.session
    found = await session.get(Conversation, conversation_id)
    handovers = (
        await session.scalars(
            select(Handover)
            .where(Handover.conversation_id == conversation_id)
            .order_by(Handover.id.desc())
        )
    ).all()
    visible = [h for h in handovers if service.can_view(console.operator, h)]
    if found is None or not visible:
        raise NotFoundError(f"no conversation {conversation_id}")  # not even whether it exists
    names = await operator_names(console)
    inbound = (
        await session.scalars(
            select(InboundRecord)
            .where(
                InboundRecord.conversation_id == conversation_id,
                InboundRecord.platform_id.not_like(f"{service.CONTROL_PREFIX}%"),
            )
            .order_by(InboundRecord.id)
        )
    ).all()
    outbox = (
        await session.scalars(
            select(OutboxRecord)
            .where(OutboxRecord.conversation_id == conversation_id)
            .order_by(OutboxRecord.id)
        )
    ).all()
    messages = [inbound_json(r) for r in inbound] + [outbox_json(r, names) for r in outbox]
    messages.sort(key=lambda m: (m["at"], m["id"].startswith("out"), m["id"]))
    notes = (
        await session.scalars(
            select(HandoverNote)
            .where(HandoverNote.handover_id.in_([h.id for h in visible]))
            .order_by(HandoverNote.id)
        )
    ).all()
    audit(
        session,
        console.operator.id,
        "conversation_read",
        visible[0].id,
        conversation_id=conversation_id,
    )
    async with console.state.gate():
        await session.commit()
    return {
        "conversation": {
            "id": found.id,
            "channel": found.channel,
            "language": found.language,
            "mode": found.mode,
            "user": f"{found.channel} …{found.user_ref[-4:]}",  # enough to tell users apart
        },
        "handover": (await handovers_json(console, visible[:1]))[0],
        "messages": messages,
        "notes": [note_json(n, names.get(n.operator_id or 0)) for n in notes],
    }


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def send_message(conversation_id: RowId, body: Text, console: ConsoleDep) -> dict[str, Any]:
    async with console.state.gate():
        await service.reply(
            console.session,
            conversation_id,
            console.operator,
            body.text,
            console.state.adapters.get,
        )
        await console.session.commit()
    console.state.worker.outbox_ready.set()  # the sender delivers it now, not at its next look
    row = await console.session.scalar(
        select(OutboxRecord)
        .where(OutboxRecord.conversation_id == conversation_id, OutboxRecord.kind == "operator")
        .order_by(OutboxRecord.id.desc())
        .limit(1)
    )
    assert row is not None
    return {"message": outbox_json(row, {console.operator.id: console.operator.display_name})}


@router.get("/canned")
async def canned(
    console: ConsoleDep,
    q: Annotated[str, Query(max_length=200)] = "",
    language: Annotated[str | None, Query(max_length=8)] = None,
) -> dict[str, Any]:
    content = console.state.kb_content()
    order = console.state.settings.fallback_order(language or "en")
    return {"replies": [vars(r) for r in canned_replies(content, q, order)]}


# --- operators ---------------------------------------------------------------------------
@router.get("/operators")
async def operators(console: ConsoleDep) -> dict[str, Any]:
    rows = (
        await console.session.scalars(
            select(Operator).where(Operator.active).order_by(Operator.display_name)
        )
    ).all()
    return {"operators": [operator_json(o) for o in rows]}


@router.post("/operators", status_code=201)
async def create_operator(body: NewOperator, console: ConsoleDep) -> dict[str, Any]:
    require_role(console, "admin")
    async with console.state.gate():
        operator = await add_operator(
            console.session,
            body.username,
            body.password,
            display_name=body.display_name,
            role=body.role,
            team=body.team,
            languages=body.languages,
            by=console.operator.id,
        )
        await console.session.commit()
    return {"operator": operator_json(operator)}


@router.post("/operators/{username}/disable")
async def disable_operator(username: str, console: ConsoleDep) -> dict[str, Any]:
    require_role(console, "admin")
    async with console.state.gate():
        operator = await set_active(console.session, username, False, by=console.operator.id)
        await console.session.commit()
    return {"operator": operator_json(operator)}


@router.post("/admin/kb/reload")
async def reload_content(console: ConsoleDep) -> dict[str, Any]:
    """An admin makes the bot read the knowledge base again (the action server swaps it)."""
    require_role(console, "admin")
    settings = console.state.settings
    headers = {"Authorization": f"Bearer {settings.ensure_rasa_token()}"}
    try:
        async with httpx.AsyncClient(timeout=300) as client:
            response = await client.post(f"{settings.actions_url}/kb/reload", headers=headers)
    except httpx.HTTPError:
        raise UpstreamError("the action server does not answer", hint="is it running?") from None
    async with console.state.gate():
        audit(console.session, console.operator.id, "content_reloaded", status=response.status_code)
        await console.session.commit()
    console.state.forget_kb_content()  # canned replies follow the new content
    if response.status_code != 200:
        raise UpstreamError(f"the action server refused the reload ({response.status_code})")
    result: dict[str, Any] = response.json()
    return result


# --- live updates ------------------------------------------------------------------------
@router.get("/events", response_class=StreamingResponse)
async def events(request: Request, state: StateDep) -> StreamingResponse:
    """Server-sent events: ``change`` with ``{kind, handover_id, conversation_id}``."""
    async with state.sessions() as session:  # checked once; no connection held while open
        if await session_for(session, request_token(request)[0]) is None:
            raise UnauthorizedError("sign in first (no session, or it expired)")
    feed = state.console_feed

    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        async with feed.subscribe() as queue:
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: change\ndata: {json.dumps(event)}\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


# --- JSON shapes -------------------------------------------------------------------------
def operator_json(operator: Operator) -> dict[str, Any]:
    return {
        "id": operator.id,
        "username": operator.username,
        "display_name": operator.display_name,
        "role": operator.role,
        "team": operator.team,
        "languages": list(operator.languages or []),
        "active": operator.active,
    }


async def operator_names(console: Console) -> dict[int, str]:
    rows = await console.session.execute(select(Operator.id, Operator.display_name))
    return dict(rows.tuples().all())


async def handovers_json(console: Console, rows: Sequence[Handover]) -> list[dict[str, Any]]:
    if not rows:
        return []
    names = await operator_names(console)
    ids = [h.conversation_id for h in rows]
    latest = (
        select(func.max(InboundRecord.id))
        .where(
            InboundRecord.conversation_id.in_(ids),
            InboundRecord.platform_id.not_like(f"{service.CONTROL_PREFIX}%"),
        )
        .group_by(InboundRecord.conversation_id)
    )
    previews = dict(
        (
            await console.session.execute(
                select(InboundRecord.conversation_id, InboundRecord.text).where(
                    InboundRecord.id.in_(latest)
                )
            )
        )
        .tuples()
        .all()
    )
    now = utcnow()
    return [
        {
            "id": h.id,
            "conversation_id": h.conversation_id,
            "state": h.state,
            "priority": h.priority,
            "reason": h.reason,
            "language": h.language,
            "channel": h.channel,
            "team": h.team,
            "operator": {"id": h.operator_id, "display_name": names.get(h.operator_id)}
            if h.operator_id
            else None,
            "created_at": aware(h.created_at).isoformat(),
            "assigned_at": aware(h.assigned_at).isoformat() if h.assigned_at else None,
            "closed_at": aware(h.closed_at).isoformat() if h.closed_at else None,
            "outcome": h.outcome,
            "waiting_seconds": round(
                (
                    (aware(h.assigned_at) if h.assigned_at else now) - aware(h.created_at)
                ).total_seconds(),
                1,
            ),
            "preview": (previews.get(h.conversation_id) or "")[:140],
            "mine": h.operator_id == console.operator.id and h.state == "assigned",
        }
        for h in rows
    ]


def inbound_json(row: InboundRecord) -> dict[str, Any]:
    return {
        "id": f"in-{row.id}",
        "at": aware(row.received_at).isoformat(),
        "from": "user",
        "text": row.text,
        "buttons": [],
        "media": [{"kind": m.get("kind"), "ref": m.get("ref")} for m in row.media or []],
        "location": row.location,
        "operator": None,
        "entry": None,
        "status": None,
    }


def outbox_json(row: OutboxRecord, names: dict[int, str]) -> dict[str, Any]:
    body = row.body or {}
    return {
        "id": f"out-{row.id}",
        "at": aware(row.created_at).isoformat(),
        "from": "operator" if row.kind == "operator" else "bot",
        "text": str(body.get("text") or ""),
        "buttons": [str(b.get("title")) for b in body.get("buttons") or []],
        "media": [],
        "location": None,
        "operator": names.get(row.operator_id) if row.operator_id else None,
        "entry": body.get("entry"),
        "status": row.delivery_status or row.status,
    }


def note_json(note: HandoverNote, operator: str | None) -> dict[str, Any]:
    return {
        "id": note.id,
        "at": aware(note.created_at).isoformat(),
        "operator": operator,
        "text": note.text,
    }
