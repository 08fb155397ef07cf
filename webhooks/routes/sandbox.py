"""The sandbox chat: a page at ``/`` and its small JSON API.

A person plays a Telegram or WhatsApp user; messages take the same path as the real
channels (inbound table, worker, Rasa, outbox, adapter).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from channels.messages import InboundMessage
from webhooks.deps import StateDep

router = APIRouter(tags=["sandbox"])
PAGE = Path(__file__).resolve().parent.parent / "static" / "sandbox.html"
Flavour = Literal["telegram", "whatsapp"]
UserId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.+-]+$")]


class SandboxMessage(BaseModel):
    channel: Flavour
    user: UserId
    text: str = Field(min_length=1, max_length=10_000)
    language_hint: str | None = Field(None, max_length=16)
    client_id: str | None = Field(None, max_length=64)  # the page's id, so a resend is dropped


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html; charset=utf-8")


@router.post("/sandbox/api/messages", status_code=202)
async def post_message(body: SandboxMessage, state: StateDep) -> dict[str, object]:
    message = InboundMessage(
        channel=f"sandbox-{body.channel}",
        user_id=body.user,
        platform_id=body.client_id or uuid.uuid4().hex,
        text=body.text,
        language_hint=body.language_hint,
    )
    stored = await state.inbound.store(message)
    return {"accepted": True, "duplicate": stored is None}


@router.get("/sandbox/api/messages")
async def get_messages(
    state: StateDep,
    channel: Flavour,
    user: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[\w.+-]+$")],
    after: Annotated[int, Query(ge=0)] = 0,
    wait: Annotated[float, Query(ge=0, le=25)] = 0,
) -> dict[str, object]:
    key = f"sandbox-{channel}:{user}"
    delivered = (
        await state.mailbox.wait(key, after, wait) if wait else state.mailbox.after(key, after)
    )
    return {"messages": [{"id": d.id, **d.message.as_json()} for d in delivered]}
