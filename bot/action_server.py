"""The rasa-sdk action server, with the knowledge base loaded once before it serves."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.actions import services
from bot.knowledge import open_knowledge_base
from bot.settings import Settings
from bot.topics import load_topics
from common.errors import UyumError

logger = logging.getLogger(__name__)


def make_app(settings: Settings) -> Sanic[Any, Any]:
    """The rasa-sdk Sanic app plus ``POST /kb/reload`` (loopback, token-protected)."""
    kb = open_knowledge_base(settings)  # builds first if content or model changed
    services.set_knowledge_base(kb)
    services.set_topics(load_topics(settings.topics_file))
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    app: Sanic[Any, Any] = create_app(executor, cors_origins=[])

    async def reload_kb(request: Request) -> HTTPResponse:
        token = settings.ensure_rasa_token()
        if request.headers.get("authorization") != f"Bearer {token}":
            return json({"error": "forbidden"}, status=403)
        try:
            changed = kb.reload(
                settings.kb_content_dir, settings.index_dir, index_type=settings.kb_index_type
            )
        except UyumError as exc:  # bad content: say what, keep serving the last good index
            return json({"error": exc.message, "hint": exc.hint}, status=422)
        return json(
            {"reloaded": changed, "entries": len(kb.content.entries), "manifest": kb.index.manifest}
        )

    app.add_route(reload_kb, "/kb/reload", methods=["POST"])
    logger.info("action server ready: %d entries", len(kb.content.entries))
    return app


def serve(settings: Settings) -> None:
    app = make_app(settings)
    app.run(
        host=settings.host,
        port=settings.actions_port,
        single_process=True,
        access_log=False,
        motd=False,
    )
