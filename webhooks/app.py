"""The gateway application and its lifespan (heavy things load once, here)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bot import db
from bot.rasa_client import RasaClient
from bot.sender import OutboxSender
from bot.settings import Settings, get_settings
from bot.worker import ConversationWorker, reset_stale
from channels.base import ChannelAdapter
from channels.sandbox import FLAVOURS, Mailbox, SandboxChannel
from common.errors import BadRequestError, UyumError
from webhooks.routes import health, sandbox
from webhooks.state import GatewayState

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await db.upgrade_async(settings.app_database_url)
        engine = db.make_engine(settings.app_database_url)
        sessions = db.make_sessionmaker(engine)
        async with sessions() as session:
            await reset_stale(session)
        mailbox = Mailbox()
        adapters: dict[str, ChannelAdapter] = {}
        for flavour in FLAVOURS:
            adapter = SandboxChannel(flavour, mailbox)
            adapters[adapter.name] = adapter
        rasa = RasaClient(settings.rasa_url, settings.ensure_rasa_token())
        worker = ConversationWorker(sessions, rasa, adapters.get)
        sender = OutboxSender(sessions, adapters.get, worker.outbox_ready)
        state = GatewayState(settings, engine, sessions, rasa, adapters, mailbox, worker, sender)
        state.tasks = [asyncio.create_task(worker.run()), asyncio.create_task(sender.run())]
        app.state.gateway = state
        logger.info("gateway ready")
        try:
            yield
        finally:
            for task in state.tasks:
                task.cancel()
            await asyncio.gather(*state.tasks, return_exceptions=True)
            await rasa.aclose()
            await engine.dispose()

    app = FastAPI(title="Uyum gateway", version="0.1.0", lifespan=lifespan)
    app.include_router(health.router)
    app.include_router(sandbox.router)

    @app.exception_handler(UyumError)
    async def _uyum_error(_: Request, exc: UyumError) -> JSONResponse:
        status = 400 if isinstance(exc, BadRequestError) else 503
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": f"{where}: {first.get('msg')}"}, status_code=422)

    return app
