"""Logging for every Uyum process: one line per record, personal data taken out.

Every record passes :func:`common.redact.redact_log` (message texts as Rasa logs them, phone
numbers, e-mails, identity numbers, IBANs) after formatting, exception text included, so a
number inside an error message or a library's log line does not reach the log. The code
itself never logs message bodies or platform user ids (conversations are named by their
database id). With ``json`` (the default in production) each line is a JSON object for a
log collector.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

from common.redact import redact_log

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole line (message, arguments, traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_log(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and exception), redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_log(record.getMessage()),
        }
        if record.exc_info:
            line["exception"] = redact_log(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def json_line(source: str, text: str) -> str:
    """Another program's log line (Rasa's, Sanic's) as one of ours, redacted."""
    now = dt.datetime.now(dt.UTC).isoformat()
    return json.dumps(
        {"time": now, "level": "INFO", "logger": source, "message": redact_log(text)},
        ensure_ascii=False,
    )


def configure(level: str, fmt: str) -> None:
    """The root logger writes to stdout through the redacting formatter of ``fmt``."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else RedactingFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "faiss.loader"):  # httpx would log URLs with tokens
        logging.getLogger(noisy).setLevel(logging.WARNING)
