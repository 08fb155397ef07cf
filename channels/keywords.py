"""Opt-out and opt-in keywords understood on every channel, whatever the dialogue state.

A user who sends one of these words alone is opted out of (or back into) all proactive
messages at once, as WhatsApp's business policy requires; free-text requests ("please stop
sending me messages") go through the dialogue's ``stop`` intent instead.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

OPT_OUT = frozenset(
    {
        # en
        "stop", "stopall", "unsubscribe",
        # tr
        "dur", "durdur",
        # ar
        "توقف", "إيقاف", "ايقاف", "الغاء الاشتراك", "إلغاء الاشتراك",
        # fa
        "لغو", "لغو اشتراک", "توقف کن",
    }
)  # fmt: skip
OPT_IN = frozenset({"start", "unstop", "başla", "basla", "ابدأ", "ابدا", "شروع", "پیل"})

_NOISE = re.compile(r"[\s\u200c\u200f\u200e.!؟?،,؛;:'\"«»()\[\]*_~-]+")


def normalise(text: str) -> str:
    """Lower case, NFKC, punctuation and zero-width marks turned into single spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NOISE.sub(" ", folded).strip()


def opt_command(text: str) -> Literal["opt_out", "opt_in"] | None:
    """``opt_out`` or ``opt_in`` when the whole message is one of the keywords."""
    word = normalise(text)
    if len(word) > 30:
        return None
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    return None
