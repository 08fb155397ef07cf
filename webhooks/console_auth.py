"""Who is calling the operator API: a session cookie (with a CSRF header) or a bearer token."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Operator
from bot.operators import session_for
from common.errors import ForbiddenError, UnauthorizedError
from webhooks.deps import StateDep
from webhooks.state import GatewayState

COOKIE = "uyum_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Console:
    """A signed-in operator and a database session for one request."""

    operator: Operator
    session: AsyncSession
    state: GatewayState
    csrf_token: str


def request_token(request: Request) -> tuple[str, bool]:
    """The session token and whether it came in the cookie (which needs the CSRF header)."""
    cookie = request.cookies.get(COOKIE, "")
    if cookie:
        return cookie, True
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip(), False) if scheme.lower() == "bearer" else ("", False)


async def signed_in(request: Request, state: StateDep) -> AsyncIterator[Console]:
    token, from_cookie = request_token(request)
    async with state.sessions() as session:
        found = await session_for(session, token)
        if found is None:
            raise UnauthorizedError("sign in first (no session, or it expired)")
        operator, stored = found
        if from_cookie and request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), stored.csrf_token.encode()):
                raise ForbiddenError(f"missing or wrong {CSRF_HEADER} header")
        yield Console(operator, session, state, stored.csrf_token)


ConsoleDep = Annotated[Console, Depends(signed_in)]


def require_role(console: Console, *roles: str) -> None:
    if console.operator.role not in roles:
        raise ForbiddenError(f"this needs the role {' or '.join(roles)}")
