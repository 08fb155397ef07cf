"""The FAISS index over every question phrasing, persisted with a manifest.

Layout under the index folder::

    current                 name of the live build (replaced atomically)
    <build>/index.faiss     inner-product index over unit vectors
    <build>/phrasings.json  one row per vector: entry id (or null for out-of-scope), language, text
    <build>/manifest.json   backend, model id, content digest, dimension, counts, index type
    cache/<model>.npz       vectors of phrasings already embedded, reused by the next build
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from common.errors import IndexStateError
from knowledge_base.content import Content
from knowledge_base.embedders import Embedder, Vectors
from knowledge_base.lexical import TrigramIndex

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
BATCH = 64
KEEP_BUILDS = 2
# Above this many phrasings exact search costs more than the query embedding on 2 cores
# (bench/kb_search.py: 48,000 vectors, flat p95 ~27 ms vs HNSW ~20 ms, same top-1).
AUTO_HNSW_FROM = 20_000


@dataclass(frozen=True)
class Phrasing:
    entry_id: str | None  # None: an out-of-scope example
    lang: str
    text: str


@dataclass
class Index:
    """A loaded index: FAISS plus the row metadata and the manifest."""

    faiss_index: Any
    phrasings: list[Phrasing]
    manifest: dict[str, Any]
    path: Path

    def search(self, vector: Vectors, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self.phrasings))
        scores, rows = self.faiss_index.search(vector.reshape(1, -1), k)
        return scores[0], rows[0]

    @cached_property
    def lexical(self) -> TrigramIndex:
        """Trigram TF-IDF over the same phrasings (built from them when the index loads)."""
        return TrigramIndex([p.text for p in self.phrasings])


def phrasings_of(content: Content) -> list[Phrasing]:
    rows = [
        Phrasing(entry.id, lang, question)
        for entry in content.entries
        for lang, translation in entry.translations.items()
        for question in translation.questions
    ]
    rows += [
        Phrasing(None, lang, text) for lang, texts in content.out_of_scope.items() for text in texts
    ]
    return rows


def build_key(content: Content, embedder: Embedder, index_type: str) -> str:
    model = hashlib.sha256(embedder.model_id.encode()).hexdigest()[:8]
    return f"{content.digest}-{model}-{index_type}"


def _cache_path(root: Path, embedder: Embedder) -> Path:
    safe = hashlib.sha256(embedder.model_id.encode()).hexdigest()[:16]
    return root / "cache" / f"{safe}.npz"


def _load_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            return dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
    except (OSError, ValueError, KeyError):
        logger.warning("embedding cache %s unreadable; embedding everything again", path.name)
        return {}


def _embed_all(
    texts: list[str], embedder: Embedder, cache: dict[str, np.ndarray], progress: Progress | None
) -> Vectors:
    todo = sorted({t for t in texts if t not in cache})
    done = len(texts) - len(todo)
    total = len(set(texts))
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        for text, vector in zip(batch, embedder.embed_queries(batch), strict=True):
            cache[text] = vector
        if progress:
            progress(min(total, total - len(todo) + start + len(batch)), total)
    if progress and not todo:
        progress(total, total)
    logger.info("embedded %d new phrasings, reused %d", len(todo), done)
    return np.stack([cache[t] for t in texts]).astype(np.float32)


def resolve_index_type(requested: str, vectors: int) -> str:
    """``auto``: exact search for small bases, HNSW from :data:`AUTO_HNSW_FROM` vectors on."""
    if requested == "auto":
        return "hnsw" if vectors >= AUTO_HNSW_FROM else "flat"
    return requested


def _make_faiss(vectors: Vectors, index_type: str) -> Any:
    dim = vectors.shape[1]
    index: Any
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


def build_index(
    content: Content,
    embedder: Embedder,
    root: Path,
    *,
    index_type: str = "auto",
    progress: Progress | None = None,
) -> Path:
    """Embed every phrasing, write a new build next to the live one, then switch ``current``."""
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    key = build_key(content, embedder, index_type)
    rows = phrasings_of(content)
    cache_file = _cache_path(root, embedder)
    cache = _load_cache(cache_file)
    vectors = _embed_all([r.text for r in rows], embedder, cache, progress)
    staging = root / f".{key}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    kind = resolve_index_type(index_type, len(rows))
    faiss.write_index(_make_faiss(vectors, kind), str(staging / "index.faiss"))
    (staging / "phrasings.json").write_text(
        json.dumps([[r.entry_id, r.lang, r.text] for r in rows], ensure_ascii=False),
        encoding="utf-8",
    )
    manifest = {
        "backend": embedder.model_id.split(":", 1)[0],
        "model_id": embedder.model_id,
        "dim": int(vectors.shape[1]),
        "content_digest": content.digest,
        "index_type": index_type,  # as configured; "faiss" says what was built
        "faiss": kind,
        "entries": len(content.entries),
        "phrasings": len(rows),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    final = root / key
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    _write_atomically(root / "current", key)
    _save_cache(cache_file, cache, {r.text for r in rows})
    _prune(root, keep=key)
    return final


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _save_cache(path: Path, cache: dict[str, np.ndarray], live: set[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = sorted(t for t in cache if t in live)
    tmp = path.with_name(path.stem + f".{os.getpid()}.tmp.npz")
    np.savez(tmp, texts=np.array(texts), vectors=np.stack([cache[t] for t in texts]))
    os.replace(tmp, path)


def _prune(root: Path, keep: str) -> None:
    builds = sorted(
        (p for p in root.iterdir() if p.is_dir() and (p / "manifest.json").exists()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[KEEP_BUILDS:]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def current_build(root: Path) -> Path | None:
    pointer = root / "current"
    if not pointer.exists():
        return None
    path = root / pointer.read_text(encoding="utf-8").strip()
    return path if path.is_dir() else None


def is_current(root: Path, content: Content, embedder_model_id: str, index_type: str) -> bool:
    """True when the live build was made from this content with this model."""
    build = current_build(root)
    if build is None:
        return False
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(
        manifest.get("content_digest") == content.digest
        and manifest.get("model_id") == embedder_model_id
        and manifest.get("index_type") == index_type
    )


def load_index(root: Path, *, expected_model_id: str | None = None) -> Index:
    """Load the live build; raise :class:`IndexStateError` if it is missing or corrupt."""
    build = current_build(root)
    if build is None:
        raise IndexStateError(
            f"no knowledge-base index in {root}", hint="run `uyum kb build` (make run does it)"
        )
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        rows = json.loads((build / "phrasings.json").read_text(encoding="utf-8"))
        faiss_index = faiss.read_index(str(build / "index.faiss"))
    except (OSError, ValueError, RuntimeError) as exc:
        raise IndexStateError(
            f"knowledge-base index {build.name} is unreadable ({exc.__class__.__name__})",
            hint="run `uyum kb build --force`",
        ) from None
    phrasings = [Phrasing(e, lang, text) for e, lang, text in rows]
    if faiss_index.ntotal != len(phrasings) or faiss_index.d != manifest.get("dim"):
        raise IndexStateError(
            f"knowledge-base index {build.name} does not match its manifest",
            hint="run `uyum kb build --force`",
        )
    if expected_model_id and manifest.get("model_id") != expected_model_id:
        raise IndexStateError(
            f"index was built with {manifest.get('model_id')}, not {expected_model_id}",
            hint="run `uyum kb build`",
        )
    index = Index(faiss_index, phrasings, manifest, build)
    _ = index.lexical  # built now, not on the first user's question
    return index
