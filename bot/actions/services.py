"""The services actions call, injected once by the action server (or by a test)."""

from __future__ import annotations

from bot.topics import Topic, load_topics
from common.errors import SetupError
from knowledge_base.search import KnowledgeBase

_knowledge_base: KnowledgeBase | None = None


def set_knowledge_base(kb: KnowledgeBase | None) -> None:
    global _knowledge_base
    _knowledge_base = kb


def knowledge_base() -> KnowledgeBase:
    if _knowledge_base is None:
        raise SetupError("the knowledge base is not loaded in this action server")
    return _knowledge_base


_topics: tuple[Topic, ...] | None = None


def set_topics(loaded: tuple[Topic, ...] | None) -> None:
    global _topics
    _topics = loaded


def topics() -> tuple[Topic, ...]:
    """The announcement topics (``UYUM_TOPICS_FILE``; the bundled file until one is set)."""
    return _topics if _topics is not None else load_topics()
