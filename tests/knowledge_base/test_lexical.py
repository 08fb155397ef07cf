"""The trigram half of hybrid scoring: folding, and what it adds to the dense half."""

from __future__ import annotations

import numpy as np

from knowledge_base.lexical import TrigramIndex, fold
from knowledge_base.search import KnowledgeBase


def test_fold_removes_case_diacritics_and_punctuation() -> None:
    assert fold("KİMLİK  kaybı?!") == fold("kimlik kaybi") == "kimlik kaybi"
    assert fold("Türkçe Kursu") == "turkce kursu"
    assert fold("مَدْرَسَة") == "مدرسة"


def test_scores_are_cosines_over_shared_trigrams() -> None:
    index = TrigramIndex(["kimlik kayboldu", "ikamet izni", "okul kaydı"])
    scores = index.scores("KİMLİĞİM KAYBOLDU")
    assert scores.argmax() == 0
    assert 0 < scores[0] <= 1.0 + 1e-6
    assert np.all(index.scores("🙂") == 0)
    assert np.allclose(index.scores("ikamet izni")[1], 1.0, atol=1e-5)


def test_lexical_weight_zero_is_dense_only(small_kb: KnowledgeBase) -> None:
    hybrid = small_kb.search("ikamet extension", "en")
    weight = small_kb.lexical_weight
    small_kb.lexical_weight = 0.0
    try:
        dense = small_kb.search("ikamet extension", "en")
    finally:
        small_kb.lexical_weight = weight
    assert hybrid.candidates[0].entry_id == dense.candidates[0].entry_id == "residence-permit"
    assert hybrid.score > dense.score  # the shared spelling adds evidence
