"""Knowledge-base answers as canned replies for operators, found by words they type."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge_base.content import Content


@dataclass(frozen=True)
class CannedReply:
    entry: str
    title: str
    text: str
    language: str


def canned_replies(
    content: Content, query: str, languages: list[str], limit: int = 20
) -> list[CannedReply]:
    """Entries whose phrasings or answer contain every word of ``query``, in the first of
    ``languages`` each entry has (the user's language, then its fallbacks)."""
    words = query.casefold().split()
    found: list[CannedReply] = []
    for entry in content.entries:
        language = entry.answer_language(languages)
        translation = entry.translations[language]
        haystack = " ".join([entry.id, *translation.questions, translation.answer]).casefold()
        if all(word in haystack for word in words):
            found.append(
                CannedReply(entry.id, translation.questions[0], translation.answer, language)
            )
            if len(found) >= limit:
                break
    return found
