"""``uyum broadcast create|preview|approve|send|status|cancel|list``: announcements from a shell.

Who acts is an operator account (``--by``), proven by its password (asked for, or read
with ``--password-stdin``): the writer and the approving supervisor must be two people.
The running gateway sends; ``send`` and ``status --watch`` show its progress.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import broadcasts, db
from bot.audit import audit
from bot.models import Broadcast, Operator, utcnow
from bot.operators import authenticate
from bot.settings import Settings, get_settings
from bot.topics import load_topics
from common.errors import BadRequestError, ForbiddenError

broadcast_app = typer.Typer(help="Announcements to subscribers.", no_args_is_help=True)
T = TypeVar("T")
By = Annotated[str, typer.Option("--by", help="Your operator username.")]
PasswordStdin = Annotated[
    bool, typer.Option(help="Read your password from standard input (for scripts).")
]


def _run(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    settings = get_settings()
    return asyncio.run(db.in_session(settings.app_database_url, lambda s: work(s, settings)))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True))


async def _actor(session: AsyncSession, username: str, password: str) -> Operator:
    operator = await authenticate(session, username, password)
    if operator is None:
        raise ForbiddenError("wrong username or password")
    return operator


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        lang, sep, rest = value.partition("=")
        if not sep or not lang.strip():
            raise BadRequestError(f"{what} must look like LANG=..., not {value!r}")
        pairs[lang.strip()] = rest
    return pairs


def _send_time(value: str | None, settings: Settings) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestError(
            f"--send-at must be ISO 8601 (2026-12-01T10:00), not {value!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.office.zone)


def _print_counts(counts: dict[str, Any]) -> None:
    print(json.dumps(counts, ensure_ascii=False, indent=2))


Many = list[str]
Text = Annotated[Many, typer.Option("--text", help="LANG=the announcement (repeat per language).")]
File = Annotated[Many, typer.Option("--file", help="LANG=path of a text file (repeat).")]
Missing = Annotated[str, typer.Option(help="Users without their language: fallback or skip.")]
Languages = Annotated[Many, typer.Option("--language", help="Only users of this language.")]
Channels = Annotated[Many, typer.Option("--channel", help="Only users of this channel.")]
Provinces = Annotated[Many, typer.Option("--province", help="Only users in this province.")]
TemplateSid = Annotated[str | None, typer.Option(help="WhatsApp ContentSid outside 24 h.")]
SendAt = Annotated[str | None, typer.Option(help="ISO time (office time zone if none).")]


@broadcast_app.command("create")
def create(
    by: By,
    title: Annotated[str, typer.Option(help="For the office; users do not see it.")],
    topic: Annotated[Many, typer.Option(help="A topic id (repeat for more).")],
    text: Text = [],  # noqa: B006 (typer reads the default; never mutated)
    file: File = [],  # noqa: B006
    missing: Missing = "fallback",
    language: Languages = [],  # noqa: B006
    channel: Channels = [],  # noqa: B006
    province: Provinces = [],  # noqa: B006
    template: TemplateSid = None,
    send_at: SendAt = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Write a broadcast (a draft until a supervisor approves it); prints its id and audience."""
    settings = get_settings()
    translations = _pairs(text, "--text")
    for lang, path in _pairs(file, "--file").items():
        try:
            translations[lang] = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise BadRequestError(f"cannot read {path}: {exc.strerror}") from None
    draft = broadcasts.Draft(
        title, topic, translations, missing, language, channel, province, template,
        _send_time(send_at, settings),
    )  # fmt: skip
    password = _password(password_stdin)

    async def work(session: AsyncSession, settings: Settings) -> tuple[int, dict[str, Any]]:
        author = await _actor(session, by, password)
        made = await broadcasts.create(session, draft, load_topics(settings.topics_file), author)
        counts = await broadcasts.dry_run(session, made, settings.fallback_order)
        return made.id, counts

    broadcast_id, counts = _run(work)
    print(f"broadcast {broadcast_id} written (draft); a supervisor approves it with")
    print(f"  uyum broadcast approve {broadcast_id} --by <supervisor>")
    _print_counts(counts)


@broadcast_app.command("preview")
def preview(broadcast_id: int) -> None:
    """What each language's users get, and the dry-run recipient counts (nothing is sent)."""

    async def work(session: AsyncSession, settings: Settings) -> dict[str, Any]:
        broadcast = await broadcasts.get(session, broadcast_id)
        return {
            "state": broadcast.state,
            "send_at": broadcast.send_at.isoformat(),
            "preview": broadcasts.preview(broadcast, settings.fallback_order),
            "dry_run": await broadcasts.dry_run(session, broadcast, settings.fallback_order),
        }

    _print_counts(_run(work))


@broadcast_app.command("approve")
def approve(broadcast_id: int, by: By, password_stdin: PasswordStdin = False) -> None:
    """A supervisor (not the writer) approves; it goes at its send time."""
    password = _password(password_stdin)

    async def work(session: AsyncSession, settings: Settings) -> dict[str, Any]:
        approver = await _actor(session, by, password)
        broadcast = await broadcasts.get(session, broadcast_id)
        return await broadcasts.approve(session, broadcast, approver, settings.fallback_order)

    counts = _run(work)
    print(f"broadcast {broadcast_id} approved for {counts['recipients']} recipients")


@broadcast_app.command("send")
def send(
    broadcast_id: int,
    by: By,
    password_stdin: PasswordStdin = False,
    watch: Annotated[bool, typer.Option(help="Show progress until it is done.")] = True,
) -> None:
    """Send an approved broadcast now (instead of at its send time) and follow it."""
    password = _password(password_stdin)

    async def work(session: AsyncSession, settings: Settings) -> None:
        operator = await _actor(session, by, password)
        broadcast = await broadcasts.get(session, broadcast_id)
        if broadcast.state in ("sending", "sent"):
            return  # already on its way: only watch
        if broadcast.state != "approved":
            raise BadRequestError(f"broadcast {broadcast_id} is {broadcast.state}, not approved")
        broadcast.send_at = utcnow()
        audit(session, operator.id, "broadcast_sent_now", broadcast_id=broadcast_id)

    _run(work)
    if watch:
        _watch(broadcast_id)


@broadcast_app.command("status")
def status(
    broadcast_id: int,
    watch: Annotated[bool, typer.Option(help="Show a progress bar until it is done.")] = False,
) -> None:
    """Recipients queued, sent, delivered, read, failed and skipped."""
    if watch:
        _watch(broadcast_id)
        return
    _print_counts(_run(lambda s, _: _status(s, broadcast_id)))


async def _status(session: AsyncSession, broadcast_id: int) -> dict[str, Any]:
    return await broadcasts.status(session, await broadcasts.get(session, broadcast_id))


def _watch(broadcast_id: int) -> None:
    columns = (TextColumn("[bold]broadcast {task.fields[id]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[detail]}"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns) as progress:
        task = progress.add_task("send", total=None, id=broadcast_id, detail="waiting")
        idle_since = time.monotonic()
        while True:
            now = _run(lambda s, _: _status(s, broadcast_id))
            finished = now["recipients"] - now["queued"]
            detail = (f"{now['state']}: sent {now['sent'] + now['delivered'] + now['read']}, "
                      f"failed {now['failed']}, skipped {now['skipped']}")  # fmt: skip
            progress.update(
                task, total=now["recipients"] or None, completed=finished, detail=detail
            )
            if now["done"]:
                break
            if now["recipients"] == 0 and time.monotonic() - idle_since > 15:
                progress.stop()
                print(
                    "nothing is being sent: is the service running (`uyum run`)?", file=sys.stderr
                )
                raise typer.Exit(1)
            time.sleep(0.5)


@broadcast_app.command("cancel")
def cancel(broadcast_id: int, by: By, password_stdin: PasswordStdin = False) -> None:
    """Stop a broadcast: nothing more is queued, queued messages are not sent."""
    password = _password(password_stdin)

    async def work(session: AsyncSession, settings: Settings) -> int:
        operator = await _actor(session, by, password)
        return await broadcasts.cancel(
            session, await broadcasts.get(session, broadcast_id), operator
        )

    stopped = _run(work)
    print(f"broadcast {broadcast_id} cancelled; {stopped} queued messages will not be sent")


@broadcast_app.command("list")
def list_() -> None:
    """Every broadcast with its state and send time."""

    async def work(session: AsyncSession, settings: Settings) -> list[Broadcast]:
        return list((await session.scalars(select(Broadcast).order_by(Broadcast.id.desc()))).all())

    table = Table("id", "title", "topics", "state", "send at")
    for b in _run(work):
        table.add_row(
            str(b.id), b.title, ",".join(b.topics), b.state, f"{b.send_at:%Y-%m-%d %H:%M}"
        )
    Console().print(table)
