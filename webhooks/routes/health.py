"""``GET /health``: every component, so an engineer sees at once what is down."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.worker import pending_counts
from webhooks.deps import StateDep

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, bool]:
    """The gateway process answers (a liveness probe; /health asks every component)."""
    return {"ok": True}


@router.get("/health")
async def health(state: StateDep) -> JSONResponse:
    components: dict[str, dict[str, Any]] = {"gateway": {"ok": True}}
    try:
        async with state.sessions() as session:
            await session.execute(text("SELECT 1"))
            components["database"] = {"ok": True, **await pending_counts(session)}
    except Exception as exc:
        components["database"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        status = await state.rasa.status()
        components["rasa"] = {
            "ok": bool(status.get("model_file")),
            "model": str(status.get("model_file", "")).rsplit("/", 1)[-1],
        }
    except (httpx.HTTPError, ValueError) as exc:
        components["rasa"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(f"{state.settings.actions_url}/health")
        components["actions"] = {"ok": response.status_code == 200}
    except httpx.HTTPError as exc:
        components["actions"] = {"ok": False, "error": exc.__class__.__name__}
    components["worker"] = (
        {"ok": state.worker.alive}
        if state.settings.gateway_worker
        else {"ok": True, "separate_process": True}
    )
    components["sender"] = {"ok": state.sender.alive}
    components["inbound_writer"] = {"ok": state.inbound.alive}
    ok = all(c["ok"] for c in components.values())
    return JSONResponse({"ok": ok, "components": components}, status_code=200 if ok else 503)
