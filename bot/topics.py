"""Announcement topics (``bot/topics.yml``): names per language and the words that name them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.protection import normalise
from common.errors import ConfigError

TOPICS_FILE = Path(__file__).with_name("topics.yml")
REQUIRED_LANGUAGES = ("tr", "ar", "fa", "en")


@dataclass(frozen=True)
class Topic:
    id: str
    names: dict[str, str]
    keywords: tuple[str, ...]

    def name(self, lang: str | None) -> str:
        return self.names.get(lang or "en") or self.names["en"]


@lru_cache(maxsize=4)
def load_topics(path: Path = TOPICS_FILE) -> tuple[Topic, ...]:
    """The topics in ``path``; a missing language or a malformed entry is a ConfigError."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the topics file {path}: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{path} must map topic ids to their names")
    topics = []
    for topic_id, spec in data.items():
        names = (spec or {}).get("names") or {}
        missing = [lang for lang in REQUIRED_LANGUAGES if not names.get(lang)]
        if missing:
            raise ConfigError(f"topic {topic_id!r} in {path} has no name in {', '.join(missing)}")
        keywords = tuple(normalise(str(k)) for k in (spec.get("keywords") or []))
        names_normal = tuple(normalise(str(n)) for n in names.values())
        topics.append(
            Topic(str(topic_id), {k: str(v) for k, v in names.items()}, keywords + names_normal)
        )
    return tuple(topics)


def topic_by_id(topics: tuple[Topic, ...], topic_id: str) -> Topic | None:
    return next((t for t in topics if t.id == topic_id), None)


def topics_named_in(topics: tuple[Topic, ...], text: str) -> list[Topic]:
    """The topics whose names or keywords appear in ``text`` (any language)."""
    normal = normalise(text)
    return [t for t in topics if any(k and k in normal for k in t.keywords)]
