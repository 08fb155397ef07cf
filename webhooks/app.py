"""The gateway application and its lifespan (heavy things load once, here)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot import db, erasure
from bot.adapters import build_adapters
from bot.broadcast_runner import BroadcastRunner
from bot.inbound import InboundWriter
from bot.rasa_client import RasaClient
from bot.rasa_tracker import RasaTrackers
from bot.retention import RetentionJob
from bot.sender import OutboxSender
from bot.settings import Settings, get_settings
from bot.worker import make_worker
from common.errors import BadRequestError, UyumError
from webhooks.console_feed import ConsoleFeed
from webhooks.routes import (
    broadcast_api,
    console,
    data_api,
    feedback_api,
    health,
    operator_api,
    privacy,
    sandbox,
    telegram,
    whatsapp,
)
from webhooks.security import BodyLimit, SecurityHeaders
from webhooks.state import GatewayState
from webhooks.telegram_polling import poll_updates

logger = logging.getLogger(__name__)

#: the routes anyone may call without signing in: (method, path) -> why. Everything else
#: answers 401/403 (tests/webhooks/test_route_auth.py, bench/privacy.py).
PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/health"): "the monitoring probe; component states and counts, no personal data",
    ("GET", "/health/live"): "the liveness probe; answers {ok: true} and nothing else",
    ("GET", "/privacy"): "the privacy notice every user is sent a link to",
    ("POST", "/api/v1/auth/login"): "the sign-in itself (throttled per username)",
    ("GET", "/console"): "the console page shell; everything it shows comes from the API",
    ("GET", "/"): "the sandbox chat page (not mounted in production)",
    ("GET", "/sandbox/api/messages"): "the sandbox chat's API (not mounted in production)",
    ("POST", "/sandbox/api/messages"): "the sandbox chat's API (not mounted in production)",
    # FastAPI's own pages: the API's description, no data
    ("GET", "/openapi.json"): "the API's schema (no data)",
    ("GET", "/docs"): "Swagger UI for the schema (no data)",
    ("GET", "/docs/oauth2-redirect"): "part of Swagger UI (no data)",
    ("GET", "/redoc"): "ReDoc for the schema (no data)",
}
#: mounted apps (prefix -> why): they are not routes with methods
PUBLIC_MOUNTS = {"/console/static": "the console page's own script and style"}
# Not listed, so checked: the channel webhooks answer 403 without the Telegram secret or the
# Twilio signature, exactly like an API route without a session.


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await db.upgrade_async(settings.app_database_url)
        engine = db.make_engine(settings.app_database_url)
        sessions = db.make_sessionmaker(engine)
        adapters = build_adapters(settings)
        gate = db.WriteGate(settings.app_database_url)
        rasa = RasaClient(settings.rasa_url, settings.ensure_rasa_token())
        identities = settings.identities()
        async with sessions() as session:  # rows stored before pseudonyms existed
            await erasure.pseudonymise_legacy(session, identities)
        worker = make_worker(settings, sessions, rasa, adapters.get, gate)
        sender = OutboxSender(
            sessions,
            adapters.get,
            worker.outbox_ready,
            identities=identities,
            poll_interval=settings.poll_interval,
            gate=gate,
        )
        inbound = InboundWriter(sessions, identities, gate=gate, on_stored=worker.notify)
        feed = ConsoleFeed(sessions, gate)
        runner = BroadcastRunner(
            sessions, gate, adapters.get, settings.fallback_order, worker.outbox_ready
        )
        trackers = RasaTrackers(settings.rasa_tracker_path)
        state = GatewayState(
            settings,
            engine,
            sessions,
            gate,
            rasa,
            adapters,
            inbound,
            worker,
            sender,
            feed,
            identities,
            trackers,
        )
        state.tasks = [
            asyncio.create_task(inbound.run()),
            asyncio.create_task(sender.run()),
            asyncio.create_task(feed.run()),
            asyncio.create_task(runner.run()),
        ]
        if settings.purge_interval_hours:
            retention = RetentionJob(
                sessions,
                trackers,
                settings.retention,
                gate,
                settings.purge_interval_hours * 3600,
            )
            state.tasks.append(asyncio.create_task(retention.run()))
        if settings.gateway_worker:
            state.tasks.append(asyncio.create_task(worker.run()))
        if adapters.telegram and settings.telegram_mode == "polling":
            state.tasks.append(asyncio.create_task(poll_updates(adapters.telegram, inbound)))
        elif adapters.telegram and not settings.telegram_webhook_secret.get_secret_value():
            logger.warning("TELEGRAM_WEBHOOK_SECRET is empty: every Telegram webhook gets 403")
        app.state.gateway = state
        gc.collect()
        gc.freeze()  # what startup made lives on: full collections no longer walk it
        logger.info("gateway ready")
        try:
            yield
        finally:
            for task in state.tasks:
                task.cancel()
            await asyncio.gather(*state.tasks, return_exceptions=True)
            await rasa.aclose()
            await adapters.aclose()
            await engine.dispose()

    app = FastAPI(title="Uyum gateway", version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)
    app.include_router(health.router)
    app.include_router(privacy.router)
    if settings.sandbox_enabled:
        app.include_router(sandbox.router)
    app.include_router(telegram.router)
    app.include_router(whatsapp.router)
    app.include_router(operator_api.router)
    app.include_router(broadcast_api.router)
    app.include_router(feedback_api.router)
    app.include_router(data_api.router)
    app.include_router(console.router)
    app.mount("/console/static", StaticFiles(directory=console.STATIC), name="console-static")

    @app.exception_handler(UyumError)
    async def _uyum_error(_: Request, exc: UyumError) -> JSONResponse:
        status = exc.status_code if isinstance(exc, BadRequestError) else 503
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": f"{where}: {first.get('msg')}"}, status_code=422)

    return app
