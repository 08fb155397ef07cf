"""Content files: valid ones load, invalid ones are named precisely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from common.errors import ContentError
from knowledge_base.content import load_content
from knowledge_base.schema import MAX_ANSWER_CHARS, REQUIRED_LANGUAGES
from tests.conftest import write_entries

PROJECT_CONTENT = Path(__file__).resolve().parents[2] / "knowledge_base" / "content"


def test_small_content_loads_with_stable_digest(content_dir: Path) -> None:
    first = load_content(content_dir)
    second = load_content(content_dir)
    assert [e.id for e in first.entries] == ["emergency-112", "residence-permit", "turkish-courses"]
    assert first.digest == second.digest
    assert first.out_of_scope["en"][0] == "what is the weather tomorrow"


def test_digest_changes_when_a_file_changes(content_dir: Path) -> None:
    before = load_content(content_dir).digest
    path = content_dir / "emergency-112.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("112 is", "112 is still"), "utf-8")
    assert load_content(content_dir).digest != before


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda e: e["translations"].pop("fa"),
            "field 'translations': Value error, missing required language(s): fa",
        ),
        (lambda e: e.update(topic="weather"), "field 'topic'"),
        (lambda e: e.update(sources=["not a url"]), "field 'sources.0'"),
        (
            lambda e: e["translations"]["en"].update(answer="x" * (MAX_ANSWER_CHARS + 1)),
            "field 'translations.en.answer'",
        ),
        (
            lambda e: e["translations"]["en"].update(questions=["ok", "  "]),
            "field 'translations.en.questions'",
        ),
        (
            lambda e: e["translations"].update(xx=e["translations"]["en"]),
            "unknown language code(s): xx",
        ),
        (lambda e: e.update(colour="red"), "field 'colour'"),
    ],
)
def test_invalid_entry_names_file_entry_and_field(
    tmp_path: Path, small_entries: list[dict[str, Any]], mutate: Any, expected: str
) -> None:
    import copy

    entries = copy.deepcopy(small_entries)
    mutate(entries[0])
    folder = write_entries(tmp_path / "bad", entries, {})
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    message = str(caught.value)
    assert message.startswith("turkish-courses.yml: entry 'turkish-courses'")
    assert expected in message


def test_duplicate_ids_and_broken_yaml_are_reported(
    tmp_path: Path, small_entries: list[dict[str, Any]]
) -> None:
    folder = write_entries(tmp_path / "dup", small_entries, {})
    (folder / "copy.yml").write_text((folder / "turkish-courses.yml").read_text("utf-8"), "utf-8")
    with pytest.raises(ContentError, match="duplicate id"):
        load_content(folder)
    (folder / "copy.yml").write_text("id: [unclosed\n", "utf-8")
    with pytest.raises(ContentError, match=r"copy.yml line \d+: not valid YAML"):
        load_content(folder)


def test_project_content_is_complete() -> None:
    """Every required entry is present, in every required language, within WhatsApp length."""
    import yaml

    content = load_content(PROJECT_CONTENT)
    required_file = Path(__file__).resolve().parents[3] / "shared" / "kb" / "required-entries.yml"
    ids = {e.id for e in content.entries}
    if required_file.exists():
        required = {item["id"] for item in yaml.safe_load(required_file.read_text("utf-8"))}
        assert required <= ids
    assert len(ids) >= 31
    for entry in content.entries:
        assert set(REQUIRED_LANGUAGES) <= set(entry.translations)
        for translation in entry.translations.values():
            assert len(translation.answer) < MAX_ANSWER_CHARS
            assert len(translation.questions) >= 5
