"""Complaints and suggestions: reference numbers, storage, status, who may read what.

The complaint form (Rasa, bot/actions/complaints.py) collects a category, the text and
whether the person stays anonymous, then sends ``{"complaint": {...}}``; the worker stores
it here in the same transaction as the reply that gives the reference number. A status
question sends ``{"complaint_status": {"reference": ...}}`` and the worker answers from
here: the status of the chat's own complaint, or of an anonymous one (its reference is
the only key to it), and for any other number the same reply as for one that does not
exist, so nothing is revealed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.models import Complaint, Conversation

Category = Literal[
    "service_quality", "staff_conduct", "sexual_exploitation_abuse", "fraud", "other"
]
CATEGORIES: tuple[Category, ...] = get_args(Category)
#: read only by the protection role, never counted in general figures
CONFIDENTIAL = frozenset({"staff_conduct", "sexual_exploitation_abuse"})
Status = Literal["received", "in_review", "resolved", "closed"]
STATUSES: tuple[Status, ...] = get_args(Status)
MAX_TEXT_CHARS = 4000
# Crockford's base32: no I, L, O or U, so a number read out or retyped survives
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE = re.compile(r"\bUY[\s-]?([0-9A-Z]{4})[\s-]?([0-9A-Z]{4})\b", re.IGNORECASE)
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_reference() -> str:
    """A fresh, unguessable reference such as ``UY-7K3M-9QXA`` (40 random bits)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"UY-{body[:4]}-{body[4:]}"


def find_reference(text: str) -> str | None:
    """The reference in what the user typed, in its written form, or None."""
    match = REFERENCE.search(text)
    if match is None:
        return None
    body = (match.group(1) + match.group(2)).upper().translate(_READ_AS)
    if any(c not in ALPHABET for c in body):
        return None
    return f"UY-{body[:4]}-{body[4:]}"


@dataclass(frozen=True)
class NewComplaint:
    reference: str
    category: str
    text: str
    anonymous: bool

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> NewComplaint | None:
        reference = find_reference(str(payload.get("reference") or ""))
        category = payload.get("category")
        text = payload.get("text")
        if reference is None or category not in CATEGORIES or not isinstance(text, str):
            return None
        if not text.strip():
            return None
        anonymous = bool(payload.get("anonymous"))
        return cls(reference, str(category), text.strip()[:MAX_TEXT_CHARS], anonymous)


def store(session: AsyncSession, conversation: Conversation, new: NewComplaint) -> Complaint:
    """Add the complaint (linked to the chat unless anonymous); the caller commits."""
    complaint = Complaint(
        reference=new.reference,
        conversation_id=None if new.anonymous else conversation.id,
        anonymous=new.anonymous,
        channel=conversation.channel,
        language=conversation.language,
        category=new.category,
        confidential=new.category in CONFIDENTIAL,
        text=new.text,
        status="received",
    )
    session.add(complaint)
    return complaint


async def status_reply(
    session: AsyncSession, conversation: Conversation, reference: str | None
) -> str:
    """What the user hears when asking for a complaint's status, in their language."""
    lang = conversation.language
    found = find_reference(reference or "")
    if found is None:
        return texts.text("complaint_ask_reference", lang)
    complaint = await session.scalar(select(Complaint).where(Complaint.reference == found))
    if complaint is None or not (
        complaint.anonymous or complaint.conversation_id == conversation.id
    ):
        return texts.text("complaint_not_found", lang)
    status = texts.text(f"complaint_status_{complaint.status}", lang)
    return texts.text("complaint_status", lang, reference=found, status=status)
