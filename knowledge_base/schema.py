"""The content model of one knowledge-base entry."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

REQUIRED_LANGUAGES = ("tr", "ar", "fa", "en")
OPTIONAL_LANGUAGES = ("ps", "fr", "ru", "uk", "kmr", "ckb")
LANGUAGES = REQUIRED_LANGUAGES + OPTIONAL_LANGUAGES
MAX_ANSWER_CHARS = 1000  # a WhatsApp message holds 1,600; answers stay well under
TOPICS = (
    "emergency",
    "protection",
    "registration",
    "residence",
    "documents",
    "work",
    "education",
    "health",
    "social-assistance",
    "legal",
    "return",
    "harmonization",
    "organisation",
    "service",
)


class Translation(BaseModel):
    """One language of an entry: ways to ask, and the answer."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["reviewed", "draft"] = "draft"
    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)

    @field_validator("questions")
    @classmethod
    def _questions_not_blank(cls, value: list[str]) -> list[str]:
        cleaned = [q.strip() for q in value]
        if any(not q for q in cleaned):
            raise ValueError("a question phrasing is empty")
        return cleaned


class Entry(BaseModel):
    """One knowledge-base item, answered in every language it has."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    topic: Literal[TOPICS]  # type: ignore[valid-type]
    audience: Literal["migrant", "host", "both"] = "both"
    urgent: bool = False
    reviewed: dt.date
    tags: list[str] = []
    sources: list[HttpUrl] = []
    translations: dict[str, Translation]

    @field_validator("translations")
    @classmethod
    def _languages_known_and_required(cls, value: dict[str, Translation]) -> dict[str, Translation]:
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language code(s): {', '.join(unknown)}")
        missing = [lang for lang in REQUIRED_LANGUAGES if lang not in value]
        if missing:
            raise ValueError(f"missing required language(s): {', '.join(missing)}")
        return value

    def answer_language(self, order: list[str]) -> str:
        """The first language of ``order`` this entry is written in (``en`` as the last resort)."""
        for lang in order:
            if lang in self.translations:
                return lang
        return "en"


class OutOfScope(BaseModel):
    """Messages the service must not answer from the knowledge base, per language."""

    model_config = ConfigDict(extra="forbid")

    examples: dict[str, list[str]]
