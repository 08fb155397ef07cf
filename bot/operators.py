"""Operator accounts and console sessions: argon2 password hashes, hashed session tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import audit
from bot.models import Operator, OperatorSession, aware, utcnow
from common.errors import BadRequestError, ConflictError, NotFoundError

#: operator: conversations; editor: also writes announcements (and, later, content);
#: supervisor: also sees every conversation, approves announcements, reads the dashboard and
#: complaints; admin: everything but confidential reports; protection: the focal point who
#: alone reads staff-conduct and sexual exploitation or abuse reports
Role = Literal["operator", "editor", "supervisor", "admin", "protection"]
ROLES: tuple[Role, ...] = get_args(Role)
MIN_PASSWORD = 10
USERNAME = re.compile(r"[a-z0-9._-]{1,64}")
_hasher = PasswordHasher()
# verified against when the username does not exist, so both cases take the same time
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise BadRequestError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def add_operator(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    display_name: str = "",
    role: str = "operator",
    team: str = "general",
    languages: list[str] | None = None,
    by: int | None = None,
) -> Operator:
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise BadRequestError("a username is 1-64 letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise BadRequestError(f"role must be one of {', '.join(ROLES)}")
    if await session.scalar(select(Operator.id).where(Operator.username == username)):
        raise ConflictError(f"an operator named {username!r} already exists")
    operator = Operator(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        team=team.strip() or "general",
        languages=sorted({lang.strip().lower() for lang in languages or [] if lang.strip()}),
        active=True,
    )
    session.add(operator)
    await session.flush()
    audit(session, by, "operator_added", operator=operator.id, role=role)
    return operator


async def set_active(
    session: AsyncSession, username: str, active: bool, *, by: int | None = None
) -> Operator:
    operator = await session.scalar(select(Operator).where(Operator.username == username.lower()))
    if operator is None:
        raise NotFoundError(f"no operator named {username!r}")
    operator.active = active
    if not active:  # signed out everywhere at once
        await session.execute(
            delete(OperatorSession).where(OperatorSession.operator_id == operator.id)
        )
    audit(session, by, "operator_enabled" if active else "operator_disabled", operator=operator.id)
    return operator


async def authenticate(session: AsyncSession, username: str, password: str) -> Operator | None:
    """The active operator with these credentials, or None (same work either way)."""
    operator = await session.scalar(
        select(Operator).where(Operator.username == username.strip().lower())
    )
    if operator is None or not operator.active:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(operator.password_hash, password):
        return None
    if _hasher.check_needs_rehash(operator.password_hash):
        operator.password_hash = _hasher.hash(password)
    return operator


@dataclass(frozen=True)
class NewSession:
    token: str  # goes to the browser's cookie (or an API client's bearer header) only
    csrf_token: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(session: AsyncSession, operator: Operator, hours: float) -> NewSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    session.add(
        OperatorSession(
            token_hash=_token_hash(token),
            operator_id=operator.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    operator.last_seen_at = now
    await session.execute(delete(OperatorSession).where(OperatorSession.expires_at < now))
    return NewSession(token, csrf)


async def session_for(session: AsyncSession, token: str) -> tuple[Operator, OperatorSession] | None:
    """The operator and session behind ``token`` while it is valid and the account active."""
    if not token:
        return None
    found = await session.get(OperatorSession, _token_hash(token))
    if found is None or aware(found.expires_at) <= utcnow():
        return None
    operator = await session.get(Operator, found.operator_id)
    if operator is None or not operator.active:
        return None
    return operator, found


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(
        delete(OperatorSession).where(OperatorSession.token_hash == _token_hash(token))
    )
