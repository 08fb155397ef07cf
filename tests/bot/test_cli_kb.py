"""`uyum kb ...` as an editor or a script uses it: JSON lines in and out, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run_uyum


@pytest.fixture
def kb_env(content_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "UYUM_KB_CONTENT_DIR": str(content_dir),
        "UYUM_KB_INDEX_DIR": str(tmp_path / "index"),
        "UYUM_DATA_DIR": str(tmp_path / "var"),
    }


def test_search_jsonl_contract(kb_env: dict[str, str]) -> None:
    lines = [
        {"text": "كيف أجدد الإقامة"},
        {"text": "ambulance number", "lang": "en"},
        {"text": ""},
        {"text": "bitcoin price today", "lang": "en"},
    ]
    stdin = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n"
    result = run_uyum(["kb", "search", "--jsonl"], kb_env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(out) == 5
    first = out[0]
    assert set(first) >= {"decision", "id", "score", "lang", "candidates", "answer"}
    assert (first["decision"], first["id"], first["lang"]) == ("answer", "residence-permit", "ar")
    assert first["answer"] == "ابدأ الطلب على e-ikamet.goc.gov.tr."
    assert out[1]["id"] == "emergency-112" and out[1]["answer"].startswith("112 is")
    assert (out[2]["decision"], out[2]["answer"]) == ("fallback", None)
    assert (out[3]["decision"], out[3]["answer"]) == ("fallback", None)
    assert out[4]["error"].startswith("line 5: expected")


def test_eval_prints_every_figure(kb_env: dict[str, str], tmp_path: Path) -> None:
    dev = tmp_path / "dev.jsonl"
    dev.write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"text": "رقم الاسعاف", "lang": "ar", "id": "emergency-112"},
                {"text": "Turkish classes for free", "lang": "en", "id": "turkish-courses"},
                {"text": "who will win the league", "lang": "en", "id": None},
            ]
        ),
        "utf-8",
    )
    result = run_uyum(["kb", "eval", str(dev)], kb_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["overall"]["n"] == 2 and report["overall"]["top1"] == 1.0
    assert set(report["languages"]) == {"ar", "en"}
    assert set(report["languages"]["ar"]) >= {"top1", "top3", "mrr"}
    assert report["out_of_scope"] == {"n": 1, "rejected": 1.0}
    assert set(report["latency_ms"]) == {"p50", "p95", "p99"}


def test_bad_files_are_one_line_errors(
    kb_env: dict[str, str], content_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "ok", "id": null}\n{"lang": "en"}\n', "utf-8")
    assert_one_line_error(
        run_uyum(["kb", "eval", str(broken)], kb_env),
        "broken.jsonl line 2: not a labelled question",
    )
    (content_dir / "turkish-courses.yml").write_text("id: turkish-courses\ntopic: nope\n", "utf-8")
    result = run_uyum(["kb", "check"], kb_env)
    assert_one_line_error(result, "turkish-courses.yml: entry 'turkish-courses', field 'topic'")
