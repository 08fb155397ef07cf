"""``uyum operators add|list|disable|enable``: console accounts, from the server's shell."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import db
from bot.models import Operator
from bot.operators import ROLES, add_operator, set_active
from bot.settings import get_settings

operators_app = typer.Typer(help="Operator accounts for the console.", no_args_is_help=True)
T = TypeVar("T")


def _in_database(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return asyncio.run(db.in_session(get_settings().app_database_url, work))


@operators_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Sign-in name: letters, digits, . _ -")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")] = "operator",
    name: Annotated[str, typer.Option(help="The name colleagues see.")] = "",
    team: Annotated[str, typer.Option(help="Team; operators see their team's chats.")] = "general",
    languages: Annotated[
        str, typer.Option(help="Languages the person reads, comma-separated (tr,ar,fa).")
    ] = "",
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input (for scripts).")
    ] = False,
) -> None:
    """Create an operator account (the password is asked for, never given on the command line)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(session: AsyncSession) -> Operator:
        return await add_operator(
            session,
            username,
            password,
            display_name=name,
            role=role,
            team=team,
            languages=languages.split(","),
        )

    operator = _in_database(work)
    print(f"added {operator.username} ({operator.role}, team {operator.team})")


@operators_app.command("list")
def list_() -> None:
    """Every account with its role, team, languages and whether it is active."""

    async def work(session: AsyncSession) -> list[Operator]:
        return list((await session.scalars(select(Operator).order_by(Operator.username))).all())

    table = Table("username", "name", "role", "team", "languages", "active", "last seen")
    for o in _in_database(work):
        seen = f"{o.last_seen_at:%Y-%m-%d %H:%M}" if o.last_seen_at else "-"
        table.add_row(
            o.username, o.display_name, o.role, o.team, ",".join(o.languages), str(o.active), seen
        )
    Console().print(table)


@operators_app.command("disable")
def disable(username: str) -> None:
    """Stop an account from signing in; its open sessions end at once."""
    _in_database(lambda session: set_active(session, username, False))
    print(f"disabled {username}")


@operators_app.command("enable")
def enable(username: str) -> None:
    """Let a disabled account sign in again."""
    _in_database(lambda session: set_active(session, username, True))
    print(f"enabled {username}")
