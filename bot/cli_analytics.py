"""``uyum analytics gaps``: what people ask that the content does not answer yet.

Lists the unanswered questions (fallbacks, clarifications, 👎) grouped by meaning per
language, biggest first, with examples; ``--draft N`` writes cluster N as a knowledge-base
entry skeleton for an editor to complete. Questions are stored redacted and without users.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot import db, gaps
from bot.models import utcnow
from bot.settings import get_settings
from common.errors import BadRequestError
from knowledge_base.embedders import make_embedder

analytics_app = typer.Typer(help="What people ask, and what the content misses.")


async def _clusters(
    days: int, language: str | None, distance: float, min_size: int
) -> list[gaps.GapCluster]:
    settings = get_settings()
    embedder = make_embedder(settings.kb_backend, settings.kb_model)
    since = utcnow() - dt.timedelta(days=days)
    return await db.in_session(
        settings.app_database_url,
        lambda session: gaps.find(
            session,
            embedder,
            since=since,
            language=language,
            distance=distance,
            min_size=min_size,
        ),
    )


@analytics_app.command("gaps")
def gaps_command(
    days: Annotated[int, typer.Option(min=1, help="Look this many days back.")] = 90,
    language: Annotated[str | None, typer.Option(help="Only this language (e.g. ar).")] = None,
    distance: Annotated[
        float,
        typer.Option(min=0.01, max=1.0, help="Cosine distance that still joins two questions."),
    ] = gaps.DEFAULT_DISTANCE,
    min_size: Annotated[int, typer.Option(min=1, help="Hide smaller clusters.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    draft: Annotated[
        int | None, typer.Option(min=1, help="Write cluster N (as listed) as a draft entry.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where --draft writes (default: stdout).")
    ] = None,
) -> None:
    """Unanswered questions grouped by meaning, per language, biggest groups first."""
    clusters = asyncio.run(_clusters(days, language, distance, min_size))
    if draft is not None:
        if draft > len(clusters):
            raise BadRequestError(
                f"there is no cluster {draft}", hint=f"the listing has {len(clusters)}"
            )
        _, text = gaps.draft_entry(clusters[draft - 1], utcnow().date())
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {out}")
        return
    if as_json:
        rows = [c.view() for c in clusters]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not clusters:
        typer.echo(f"no unanswered questions in groups of {min_size} or more in {days} days")
        return
    table = Table(title=f"Unanswered questions, last {days} days, by meaning")
    for column in ("#", "lang", "size", "from", "examples", "near entries"):
        table.add_column(column)
    for number, c in enumerate(clusters, 1):
        table.add_row(
            str(number),
            c.language,
            str(c.size),
            ", ".join(f"{k} {v}" for k, v in c.kinds.items()),
            "\n".join(c.examples[:3]),
            ", ".join(c.near_entries) or "-",
        )
    Console().print(table)
