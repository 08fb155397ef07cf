"""Loading and validating the YAML content files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from common.errors import ContentError
from knowledge_base.schema import Entry, OutOfScope

OUT_OF_SCOPE_FILE = "_out_of_scope.yml"


@dataclass(frozen=True)
class Content:
    """Every entry plus the out-of-scope examples, and a hash of the files they came from."""

    entries: tuple[Entry, ...]
    out_of_scope: dict[str, list[str]]
    digest: str

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ContentError(
            f"{path.name}{where}: not valid YAML ({exc.__class__.__name__})"
        ) from None


def _explain(path: Path, entry_id: str, exc: ValidationError) -> ContentError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(entry)"
    return ContentError(
        f"{path.name}: entry '{entry_id}', field '{field}': {first['msg']}",
        hint="fix the file and run `uyum kb check`; the last good index keeps serving",
    )


def load_content(directory: Path) -> Content:
    """Read every ``*.yml`` under ``directory``; raise :class:`ContentError` naming the culprit."""
    if not directory.is_dir():
        raise ContentError(f"content folder {directory} does not exist")
    files = sorted(p for p in directory.rglob("*.yml") if p.is_file())
    digest = hashlib.sha256()
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    out_of_scope: dict[str, list[str]] = {}
    for path in files:
        raw = path.read_bytes()
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + raw)
        data = _read_yaml(path)
        if path.name == OUT_OF_SCOPE_FILE:
            try:
                out_of_scope = OutOfScope.model_validate(data).examples
            except ValidationError as exc:
                raise _explain(path, "out-of-scope", exc) from None
            continue
        items = data if isinstance(data, list) else [data]
        for item in items:
            entry_id = str(item.get("id", "?")) if isinstance(item, dict) else "?"
            try:
                entry = Entry.model_validate(item)
            except ValidationError as exc:
                raise _explain(path, entry_id, exc) from None
            if entry.id in seen:
                raise ContentError(
                    f"{path.name}: entry '{entry.id}', field 'id': duplicate id, "
                    f"also in {seen[entry.id]}"
                )
            seen[entry.id] = path.name
            entries.append(entry)
    if not entries:
        raise ContentError(f"no entries found in {directory}")
    return Content(tuple(entries), out_of_scope, digest.hexdigest()[:16])
