"""The full privacy notice (``GET /privacy``): public, in the reader's language.

The short notice every user gets on first contact links here. The text is
``bot/privacy_notice.yml``; the retention periods are the configured ones.
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse

from webhooks.deps import StateDep

router = APIRouter(tags=["privacy"])
NOTICE = Path(__file__).resolve().parents[2] / "bot" / "privacy_notice.yml"
RIGHT_TO_LEFT = {"ar", "fa", "ps"}


@lru_cache(maxsize=1)
def _notices() -> dict[str, Any]:
    return dict(yaml.safe_load(NOTICE.read_text(encoding="utf-8")))


def _language(asked: str | None, accept: str | None, available: list[str]) -> str:
    """The asked language, else the browser's first available one, else English."""
    wanted = [asked or ""] + [part.split(";")[0].strip()[:2] for part in (accept or "").split(",")]
    return next((lang for lang in wanted if lang in available), "en")


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_notice(
    state: StateDep,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> HTMLResponse:
    """How Uyum handles personal data, as a page (``?lang=ar`` for Arabic)."""
    notices = _notices()
    language = _language(lang, accept_language, list(notices))
    notice = notices[language]
    values = {
        "days": str(state.settings.retention_days),
        "media_days": str(state.settings.media_retention_days),
    }
    body = [f"<h1>{html.escape(notice['title'])}</h1>"]
    for section in notice["sections"]:
        body.append(f"<h2>{html.escape(section['heading'])}</h2>")
        body += [f"<p>{html.escape(p.format(**values))}</p>" for p in section["paragraphs"]]
    others = " · ".join(
        f'<a href="?lang={code}" lang="{code}">{html.escape(notices[code]["title"])}</a>'
        for code in notices
        if code != language
    )
    direction = "rtl" if language in RIGHT_TO_LEFT else "ltr"
    page = (
        f'<!doctype html><html lang="{language}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(notice['title'])}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:auto;"
        "padding:1rem;line-height:1.5}nav{font-size:.9rem}</style></head><body>"
        f"{''.join(body)}<nav>{others}</nav></body></html>"
    )
    return HTMLResponse(page)
