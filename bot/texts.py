"""Texts the code sends to users, per language, from ``bot/texts.yml``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

TEXTS_FILE = Path(__file__).with_name("texts.yml")
FALLBACK_ORDER = ("en", "tr")


@lru_cache(maxsize=1)
def _texts() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return {key: dict(value) for key, value in data.items()}


def text(key: str, lang: str | None, **values: str) -> str:
    """The text ``key`` in ``lang`` (or English, then Turkish), with ``{placeholders}`` filled."""
    variants = _texts()[key]
    for candidate in (lang, *FALLBACK_ORDER):
        if candidate and candidate in variants:
            return variants[candidate].format(**values) if values else variants[candidate]
    raise KeyError(key)


def language_name(lang: str) -> str:
    return _texts()["language_names"].get(lang, lang)
