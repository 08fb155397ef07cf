"""Build the knowledge base the way settings say (shared by the CLI and the action server)."""

from __future__ import annotations

from bot.settings import Settings
from knowledge_base.embedders import Embedder, make_embedder
from knowledge_base.search import KnowledgeBase, Thresholds


def open_knowledge_base(settings: Settings, *, embedder: Embedder | None = None) -> KnowledgeBase:
    return KnowledgeBase.open(
        settings.kb_content_dir,
        settings.index_dir,
        embedder or make_embedder(settings.kb_backend, settings.kb_model),
        index_type=settings.kb_index_type,
        thresholds=Thresholds(
            settings.kb_answer_threshold, settings.kb_clarify_threshold, settings.kb_margin
        ),
        fallback_order=settings.fallback_order,
        lexical_weight=settings.kb_lexical_weight,
    )
