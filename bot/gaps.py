"""Content gaps: unanswered questions grouped by meaning, per language, for editors.

Every fallback, clarification and 👎 leaves a redacted question (bot/analytics.py), most
with the e5 vector NLU computed for it; the others are embedded here with the knowledge
base's embedder. Questions are grouped by average-linkage agglomerative clustering on cosine
distance, cut at ``distance`` (e5 puts paraphrases of one question above 0.9 similarity and
different questions on the same theme around 0.8), separately for each language. A cluster
is reported with its size, what left it (fallback / clarify / 👎), the entries it came
close to, and its most central questions as examples; ``draft_entry`` turns one into a
knowledge-base entry skeleton for an editor to complete from an official source.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml
from sklearn.cluster import AgglomerativeClustering  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import UnansweredQuestion, aware
from knowledge_base.embedders import Embedder
from knowledge_base.schema import REQUIRED_LANGUAGES

DEFAULT_DISTANCE = 0.14
EXAMPLES = 5
Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Question:
    id: int
    language: str
    kind: str
    text: str
    entry_id: str | None
    at: dt.datetime
    vector: Vectors | None


@dataclass
class GapCluster:
    language: str
    size: int
    examples: list[str]
    kinds: dict[str, int]
    near_entries: dict[str, int]
    first_at: dt.datetime
    last_at: dt.datetime
    question_ids: list[int] = field(repr=False)

    def view(self) -> dict[str, Any]:
        """What a person sees of the cluster (no question ids), as JSON-ready values."""
        return {
            "language": self.language,
            "size": self.size,
            "examples": self.examples,
            "kinds": self.kinds,
            "near_entries": self.near_entries,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
        }


async def load_questions(
    session: AsyncSession,
    *,
    since: dt.datetime | None = None,
    language: str | None = None,
    vector_model: str | None = None,
) -> list[Question]:
    """The stored unanswered questions (vectors only where they come from ``vector_model``)."""
    query = select(UnansweredQuestion).order_by(UnansweredQuestion.id)
    if since is not None:
        query = query.where(UnansweredQuestion.at >= since)
    if language is not None:
        query = query.where(UnansweredQuestion.language == language)
    questions = []
    for row in (await session.scalars(query)).all():
        vector = None
        if row.vector and vector_model and row.vector_model == vector_model:
            vector = np.frombuffer(row.vector, dtype=np.float16).astype(np.float32)
        questions.append(
            Question(
                row.id,
                row.language or "und",
                row.kind,
                row.text,
                row.entry_id,
                aware(row.at),
                vector,
            )
        )
    return questions


async def find(
    session: AsyncSession,
    embedder: Embedder,
    *,
    since: dt.datetime,
    language: str | None = None,
    distance: float = DEFAULT_DISTANCE,
    min_size: int = 2,
) -> list[GapCluster]:
    """The clusters of questions stored since ``since`` (clustering off the event loop)."""
    questions = await load_questions(
        session, since=since, language=language, vector_model=embedder.vector_tag
    )
    if not questions:
        return []
    return await asyncio.to_thread(
        cluster, questions, embedder.embed_queries, distance=distance, min_size=min_size
    )


def _vectors(questions: Sequence[Question], embed: Callable[[list[str]], Vectors]) -> Vectors:
    """One unit vector per question: the stored one, else (or if its size is off) embedded now."""
    missing = [i for i, q in enumerate(questions) if q.vector is None]
    fresh = embed([questions[i].text for i in missing]) if missing else None
    first = questions[0].vector
    dim = fresh.shape[1] if fresh is not None else len(first) if first is not None else 0
    odd = [i for i, q in enumerate(questions) if q.vector is not None and len(q.vector) != dim]
    out = np.zeros((len(questions), dim), dtype=np.float32)
    for i, q in enumerate(questions):
        if q.vector is not None and len(q.vector) == dim:
            out[i] = q.vector
    if fresh is not None:
        out[missing] = fresh
    if odd:  # a stored vector of another size (a corrupt row): embed that question too
        out[odd] = embed([questions[i].text for i in odd])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(out / norms, dtype=np.float32)


def _labels(vectors: Vectors, distance: float) -> npt.NDArray[np.int_]:
    if len(vectors) == 1:
        return np.zeros(1, dtype=np.int_)
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance
    )
    return np.asarray(model.fit_predict(vectors))


def _examples(texts: list[str], vectors: Vectors) -> list[str]:
    """The most central distinct questions of a cluster (nearest its mean first)."""
    centre = vectors.mean(axis=0)
    seen: set[str] = set()
    examples = []
    for i in np.argsort(-(vectors @ centre)):
        key = re.sub(r"\W+", " ", texts[i].casefold()).strip()
        if key not in seen:
            seen.add(key)
            examples.append(texts[i])
        if len(examples) == EXAMPLES:
            break
    return examples


def cluster(
    questions: Sequence[Question],
    embed: Callable[[list[str]], Vectors],
    *,
    distance: float = DEFAULT_DISTANCE,
    min_size: int = 1,
) -> list[GapCluster]:
    """Group ``questions`` by meaning within each language, biggest groups first."""
    by_language: dict[str, list[Question]] = {}
    for q in questions:
        by_language.setdefault(q.language, []).append(q)
    clusters: list[GapCluster] = []
    for language, group in by_language.items():
        vectors = _vectors(group, embed)
        labels = _labels(vectors, distance)
        for label in np.unique(labels):
            members = np.flatnonzero(labels == label)
            if len(members) < min_size:
                continue
            chosen = [group[i] for i in members]
            times = [q.at for q in chosen]
            clusters.append(
                GapCluster(
                    language=language,
                    size=len(chosen),
                    examples=_examples([q.text for q in chosen], vectors[members]),
                    kinds=dict(Counter(q.kind for q in chosen).most_common()),
                    near_entries=dict(
                        Counter(q.entry_id for q in chosen if q.entry_id).most_common(3)
                    ),
                    first_at=min(times),
                    last_at=max(times),
                    question_ids=[q.id for q in chosen],
                )
            )
    clusters.sort(key=lambda c: (-c.size, c.language, -c.last_at.timestamp()))
    return clusters


def draft_entry(cluster: GapCluster, today: dt.date) -> tuple[str, str]:
    """A knowledge-base entry skeleton from ``cluster``: its id, and YAML with instructions."""
    slug = re.sub(r"[^a-z0-9]+", "-", cluster.examples[0].casefold()).strip("-")[:40].strip("-")
    fallback_id = f"draft-gap-{cluster.language}-{min(cluster.question_ids)}"
    entry_id = f"draft-{slug}" if slug else fallback_id
    translations: dict[str, Any] = {
        lang: {"status": "draft", "questions": [], "answer": ""} for lang in REQUIRED_LANGUAGES
    }
    translations[cluster.language] = {
        "status": "draft",
        "questions": cluster.examples,
        "answer": "",
    }
    entry = {
        "id": entry_id,
        "topic": "service",
        "reviewed": today.isoformat(),
        "sources": [],
        "translations": translations,
    }
    header = (
        f"# Draft from `uyum analytics gaps`: {cluster.size} unanswered questions in "
        f"{cluster.language}, {cluster.first_at:%Y-%m-%d} to {cluster.last_at:%Y-%m-%d}.\n"
        "# Write the answer in every required language from an official source, set the topic,\n"
        "# sources and review date, then move the file into knowledge_base/content/\n"
        "# (`uyum kb check` tells what is still missing). Never guess a fee, date or number.\n"
    )
    return entry_id, header + yaml.safe_dump(entry, allow_unicode=True, sort_keys=False)
