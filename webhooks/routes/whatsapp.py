"""``POST /webhooks/whatsapp`` and its status callback, proven by Twilio's signature."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import or_, select, update

from bot.models import Conversation, OutboxRecord, utcnow
from channels.whatsapp import USER_GONE_CODES, WhatsAppChannel, parse_form
from common.errors import BadRequestError, ForbiddenError, NotFoundError
from webhooks.deps import BodyDep, StateDep

router = APIRouter(tags=["channels"])
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
#: Twilio's message states in the order they happen; a late callback never goes backwards
STATUS_RANK = {
    "accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5,
    "undelivered": 6, "failed": 6,
}  # fmt: skip
Signature = Annotated[str, Header(alias="X-Twilio-Signature")]


def _verified_form(
    state: StateDep, request: Request, body: bytes, signature: str
) -> tuple[WhatsAppChannel, dict[str, str]]:
    if state.whatsapp is None:
        raise NotFoundError("the WhatsApp channel is not configured here")
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        form = {}
    url = state.settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not state.whatsapp.verify(url, form, signature):
        raise ForbiddenError("the Twilio signature is missing or wrong")
    return state.whatsapp, form


@router.post("/webhooks/whatsapp")
async def whatsapp_message(
    request: Request, state: StateDep, body: BodyDep, signature: Signature = ""
) -> Response:
    _, form = _verified_form(state, request, body, signature)
    try:
        message = parse_form(form)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None
    if message is not None:
        await state.inbound.store(message)
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.post("/webhooks/whatsapp/status", status_code=204)
async def whatsapp_status(
    request: Request, state: StateDep, body: BodyDep, signature: Signature = ""
) -> Response:
    """Twilio's delivery reports (sent, delivered, read, failed…) for our messages."""
    _, form = _verified_form(state, request, body, signature)
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "").lower()
    if not sid or status not in STATUS_RANK:
        raise BadRequestError("MessageSid and a known MessageStatus are required")
    if status not in ("failed", "undelivered"):  # the common case: one statement, grouped
        behind = [s for s, rank in STATUS_RANK.items() if rank <= STATUS_RANK[status]]
        advance = (
            update(OutboxRecord)
            .where(
                OutboxRecord.platform_id == sid,
                or_(
                    OutboxRecord.delivery_status.is_(None),
                    OutboxRecord.delivery_status.in_(behind),
                ),
            )
            .values(delivery_status=status, delivery_updated_at=utcnow())
        )
        await state.sender.writes.execute(advance)  # not ours, or already further: nothing
        return Response(status_code=204)
    async with state.gate(), state.sessions() as session:  # the gate first, then a connection
        row = await session.scalar(select(OutboxRecord).where(OutboxRecord.platform_id == sid))
        if row is None:
            return Response(status_code=204)  # not ours, or erased since: nothing to record
        if STATUS_RANK[status] >= STATUS_RANK.get(row.delivery_status or "", -1):
            row.delivery_status, row.delivery_updated_at = status, utcnow()
        code = form.get("ErrorCode", "")  # ASCII digits only: "²".isdigit() but int("²") fails
        gone = code.isascii() and code.isdigit() and int(code) in USER_GONE_CODES
        if status in ("failed", "undelivered") and gone:
            conversation = await session.get(Conversation, row.conversation_id)
            if conversation is not None:
                conversation.unreachable_at = utcnow()
        await session.commit()
    return Response(status_code=204)
