"""Log records: one line each, JSON when asked, personal data taken out either way."""

from __future__ import annotations

import json
import logging

import pytest

from common import logs


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("bot.worker", logging.WARNING, __file__, 1, message, args, None)


def test_text_lines_are_redacted_after_formatting() -> None:
    formatter = logs.RedactingFormatter(logs.TEXT_FORMAT)
    line = formatter.format(record("user %s wrote from %s", "ali@example.org", "05321112233"))
    assert "ali@example.org" not in line and "05321112233" not in line
    assert "[email]" in line and "[phone]" in line and "WARNING bot.worker" in line


def test_json_lines_carry_the_fields_and_a_redacted_traceback() -> None:
    try:
        raise ValueError("bad id 10000000146")
    except ValueError:
        import sys

        failing = record("storing failed for %s", "+90 532 111 22 33")
        failing.exc_info = sys.exc_info()
    line = json.loads(logs.JsonFormatter().format(failing))
    assert set(line) == {"time", "level", "logger", "message", "exception"}
    assert line["message"] == "storing failed for [phone]"
    assert "10000000146" not in line["exception"] and "[id]" in line["exception"]


def test_other_programs_lines_become_ours(capsys: pytest.CaptureFixture[str]) -> None:
    wrapped = json.loads(logs.json_line("rasa", '{"text": "hello 0532 111 22 33"}'))
    assert wrapped["logger"] == "rasa" and "0532" not in wrapped["message"]
    root = logging.getLogger()
    kept = root.handlers[:], root.level
    try:
        logs.configure("INFO", "json")
        logging.getLogger("uyum.test").info("ready on %s", "+905321112233")
    finally:  # the handler writes to this test's captured stdout, closed after it
        root.handlers[:], root.level = kept[0], kept[1]
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["message"] == "ready on [phone]"
