"""``POST /webhooks/telegram``: Telegram updates, proven by the webhook's secret token."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from channels.telegram import callback_answer, parse_update
from common.errors import BadRequestError, ForbiddenError, NotFoundError
from webhooks.deps import BodyDep, StateDep

logger = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])


@router.post("/webhooks/telegram")
async def telegram_update(
    state: StateDep,
    body: BodyDep,
    secret: Annotated[str, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = "",
) -> JSONResponse:
    if state.telegram is None:
        raise NotFoundError("the Telegram channel is not configured here")
    expected = state.settings.telegram_webhook_secret.get_secret_value()
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise ForbiddenError("the Telegram secret token is missing or wrong")
    payload = _json_object(body)
    try:
        message = parse_update(payload)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None
    if message is not None:
        await state.inbound.store(message)
    # the reply to a webhook may carry one Bot API call: stop the pressed button's spinner
    return JSONResponse(callback_answer(payload) or {"ok": True})


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequestError("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadRequestError("the body is not a JSON object")
    return payload
