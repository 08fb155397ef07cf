"""Dependencies of the routes, as ``Annotated`` aliases (overridable in tests)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from common.errors import PayloadTooLargeError
from webhooks.state import GatewayState


async def get_state(request: Request) -> GatewayState:  # async: no thread hop per request
    state: GatewayState = request.app.state.gateway
    return state


StateDep = Annotated[GatewayState, Depends(get_state)]


async def limited_body(request: Request, state: StateDep) -> bytes:
    """The request body, refused with 413 past ``UYUM_MAX_WEBHOOK_BYTES`` (read in chunks)."""
    limit = state.settings.max_webhook_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"request body over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


BodyDep = Annotated[bytes, Depends(limited_body)]

#: a row id in a path: ids are 32-bit in PostgreSQL (64-bit in SQLite), so a larger number is
#: a 422 here instead of an overflow in the database driver (a 500)
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
