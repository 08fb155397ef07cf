"""Personal data in the admin API (``/api/v1/data``): erasure requests, purges, their log.

For an erasure asked for outside the chat (by letter, at the office, by a representative),
once the office has checked who is asking. Admins only; every call is audited without the
user's id. The answer is the same whether or not the user existed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from bot import erasure, retention
from bot.audit import audit
from bot.models import DeletionRecord
from webhooks.console_auth import ConsoleDep, require_role

router = APIRouter(prefix="/api/v1/data", tags=["personal data"])
ADMINS = ("admin",)


class ErasureRequest(BaseModel):
    channel: Literal["whatsapp", "telegram", "sandbox-whatsapp", "sandbox-telegram"]
    user: str = Field(min_length=1, max_length=200, description="phone number or chat id")


@router.post("/erasures", status_code=202)
async def erase(request: ErasureRequest, console: ConsoleDep) -> dict[str, str]:
    """Erase everything held about one user of one channel."""
    require_role(console, *ADMINS)
    state = console.state
    audit(console.session, console.operator.id, "data_erasure", channel=request.channel)
    await erasure.erase_user(
        console.session,
        state.identities,
        state.trackers,
        request.channel,
        request.user,
        via="api",
        gate=state.gate,
    )
    return {"status": "erased", "detail": "nothing of this user is held any more"}


@router.post("/purges")
async def purge(console: ConsoleDep) -> dict[str, Any]:
    """Destroy now what is past its retention period (it also runs on a schedule)."""
    require_role(console, *ADMINS)
    state = console.state
    audit(console.session, console.operator.id, "data_purge")
    async with state.gate():
        await console.session.commit()
    counts = await retention.purge(
        state.sessions, state.trackers, state.settings.retention, via="api", gate=state.gate
    )
    return {"destroyed": dict(counts)}


@router.get("/deletions")
async def deletions(
    console: ConsoleDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    """Erasures and purges, newest first: when, how, and counts of what went."""
    require_role(console, *ADMINS)
    query = select(DeletionRecord).order_by(DeletionRecord.id.desc()).limit(limit)
    rows = (await console.session.scalars(query)).all()
    return {
        "deletions": [
            {
                "at": r.at.isoformat(),
                "kind": r.kind,
                "via": r.via,
                "counts": r.counts,
                "seconds": round(r.seconds, 3),
            }
            for r in rows
        ]
    }
