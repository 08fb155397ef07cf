"""``uyum``: the one command line for the people who run the service."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer

from bot.cli_analytics import analytics_app
from bot.cli_broadcasts import broadcast_app
from bot.cli_data import data_app
from bot.cli_operators import operators_app
from bot.settings import Settings, get_settings
from common import logs
from common.errors import ConfigError, ServiceError, UyumError

if TYPE_CHECKING:
    from channels.telegram import TelegramChannel

app = typer.Typer(
    help="Uyum: multilingual information chatbot (Rasa + knowledge base + channels).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
kb_app = typer.Typer(help="Knowledge base: build, check, search, reload.", no_args_is_help=True)
db_app = typer.Typer(help="App database: migrations.", no_args_is_help=True)
serve_app = typer.Typer(
    help="Run one process in the foreground (used by `uyum run`).", no_args_is_help=True
)
app.add_typer(kb_app, name="kb")
app.add_typer(db_app, name="db")
app.add_typer(serve_app, name="serve")
telegram_app = typer.Typer(help="Telegram: register or remove the webhook.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")
app.add_typer(operators_app, name="operators")
app.add_typer(broadcast_app, name="broadcast")
app.add_typer(analytics_app, name="analytics")
app.add_typer(data_app, name="data")


def _settings() -> Settings:
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_style)
    return settings


def _progress(label: str):  # type: ignore[no-untyped-def]
    """A progress callback printing ``label  done/total`` on one line."""

    def report(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        width = 30
        filled = int(width * done / max(total, 1))
        print(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
            end=end,
            flush=True,
        )

    return report


# ---------------------------------------------------------------- run / train


@app.command()
def run(
    no_train: Annotated[
        bool, typer.Option(help="Do not train even if the Rasa data changed.")
    ] = False,
) -> None:
    """Set up what changed (model, index), start Rasa, actions and gateway, and watch them."""
    from bot import rasa_project
    from bot.supervisor import Child, check_port_free, supervise

    settings = _settings()
    for name, port in (
        ("gateway", settings.gateway_port),
        ("rasa", settings.rasa_port),
        ("actions", settings.actions_port),
    ):
        check_port_free(settings.host, port, name)
    model = rasa_project.model_path(settings)
    if not no_train:
        model = rasa_project.train(settings)
    rasa_project.check_model(model)
    _build_index(settings, force=False)
    token = settings.ensure_rasa_token(new=not settings.rasa_token.get_secret_value())
    env = dict(os.environ, UYUM_RASA_TOKEN=token, PYTHONUNBUFFERED="1")
    python = sys.executable
    children = [
        Child(
            "actions",
            [python, "-m", "bot.cli", "serve", "actions"],
            f"{settings.actions_url}/health",
            settings.actions_port,
            env,
            nice=settings.background_nice,
        ),
        Child(
            "rasa",
            rasa_project.run_command(settings, model),
            f"{settings.rasa_url}/status?token={token}",
            settings.rasa_port,
            {**rasa_project.rasa_env(settings), "UYUM_RASA_TOKEN": token},
            nice=settings.background_nice,
        ),
        Child(
            "gateway",
            [python, "-m", "bot.cli", "serve", "gateway"],
            f"{settings.gateway_url}/health/live",
            settings.gateway_port,
            env,
        ),
    ]
    if not settings.gateway_worker:  # the conversation worker in its own, restartable process
        worker = [python, "-m", "bot.cli", "serve", "worker"]
        children.append(
            Child("worker", worker, None, None, env, restart=True, nice=settings.background_nice)
        )
    for child in children:
        child.json_logs = settings.log_style == "json"
    banner = (
        "\nUyum is running:\n"
        f"  sandbox chat   {settings.gateway_url}/\n"
        f"  health         {settings.gateway_url}/health\n"
        f"  API docs       {settings.gateway_url}/docs\n"
        "Press Ctrl-C to stop.\n"
    )
    code = asyncio.run(supervise(settings, children, banner=banner))
    raise typer.Exit(code)


@app.command()
def train(
    force: Annotated[bool, typer.Option(help="Train even if nothing changed.")] = False,
) -> None:
    """Train the Rasa model when its inputs (config, domain, data, nlu components) changed."""
    from bot import rasa_project

    rasa_project.train(_settings(), force=force)


@app.command()
def validate() -> None:
    """Check the Rasa domain, rules and NLU data (`rasa data validate`, warnings are errors)."""
    from bot import rasa_project

    rasa_project.validate(_settings())


@app.command()
def health() -> None:
    """Ask the running gateway how every component is."""
    settings = _settings()
    try:
        response = httpx.get(f"{settings.gateway_url}/health", timeout=10)
    except httpx.HTTPError:
        raise UyumError(
            f"the gateway at {settings.gateway_url} does not answer",
            hint="start it with `make run`",
        ) from None
    print(json.dumps(response.json(), indent=2))
    raise typer.Exit(0 if response.status_code == 200 else 1)


# ---------------------------------------------------------------- serve


@serve_app.command("actions")
def serve_actions() -> None:
    """The rasa-sdk action server with the knowledge base loaded."""
    from bot.action_server import serve

    serve(_settings())


@serve_app.command("gateway")
def serve_gateway() -> None:
    """The FastAPI gateway (webhooks, sandbox, API)."""
    import uvicorn

    from webhooks.app import create_app

    settings = _settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.gateway_port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's records go through our redacting handler
        access_log=False,
    )


@serve_app.command("worker")
def serve_worker() -> None:
    """The conversation worker alone (inbound → Rasa → outbox), for UYUM_GATEWAY_WORKER=false."""
    from bot.worker import run_worker

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(_settings()))


# ---------------------------------------------------------------- telegram


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register PUBLIC_BASE_URL/webhooks/telegram with Telegram, with the webhook secret."""
    from bot.adapters import telegram_channel

    settings = _settings()
    secret = settings.telegram_webhook_secret.get_secret_value()
    if not secret:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET is empty",
            hint="set it to a long random string; Telegram sends it with every update",
        )
    if not settings.public_base_url.startswith("https://"):
        raise ConfigError(
            f"PUBLIC_BASE_URL must be https for Telegram webhooks, not {settings.public_base_url}",
            hint="or run with TELEGRAM_MODE=polling on a machine without a public address",
        )
    url = settings.public_base_url.rstrip("/") + "/webhooks/telegram"
    asyncio.run(_telegram_call(telegram_channel(settings), lambda c: c.set_webhook(url, secret)))
    print(f"Telegram will post updates to {url}")


@telegram_app.command("delete-webhook")
def telegram_delete_webhook() -> None:
    """Stop Telegram's webhook (needed before polling from another machine)."""
    from bot.adapters import telegram_channel

    channel = telegram_channel(_settings())
    asyncio.run(_telegram_call(channel, lambda c: c.bot.delete_webhook()))
    print("Telegram webhook removed")


async def _telegram_call(
    channel: TelegramChannel, call: Callable[[TelegramChannel], Awaitable[object]]
) -> None:
    from telegram.error import TelegramError

    try:
        await call(channel)
    except TelegramError as exc:
        raise ServiceError(f"Telegram refused: {exc}", hint="check TELEGRAM_BOT_TOKEN") from None
    finally:
        await channel.aclose()


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the app database."""
    from bot import db

    settings = _settings()
    db.upgrade(settings.app_database_url)
    print("database is up to date")


# ---------------------------------------------------------------- kb


def _build_index(settings: Settings, *, force: bool) -> Path | None:
    from knowledge_base.content import load_content
    from knowledge_base.embedders import make_embedder
    from knowledge_base.index import build_index, is_current

    content = load_content(settings.kb_content_dir)
    embedder = make_embedder(settings.kb_backend, settings.kb_model)
    if not force and is_current(
        settings.index_dir, content, embedder.model_id, settings.kb_index_type
    ):
        print(f"[kb] index up to date ({len(content.entries)} entries)", flush=True)
        return None
    path = build_index(
        content,
        embedder,
        settings.index_dir,
        index_type=settings.kb_index_type,
        progress=_progress("[kb] embedding phrasings"),
    )
    print(f"[kb] index built: {path.name}", flush=True)
    return path


@kb_app.command("build")
def kb_build(
    force: Annotated[bool, typer.Option(help="Rebuild even if up to date.")] = False,
) -> None:
    """Build the FAISS index when content or model changed."""
    _build_index(_settings(), force=force)


@kb_app.command("check")
def kb_check(
    online: Annotated[
        bool, typer.Option(help="Also fetch every source URL (needs network).")
    ] = False,
) -> None:
    """Validate content: schema, ids, required languages, near-duplicate phrasings, sources."""
    from knowledge_base.checks import dead_sources, near_duplicates
    from knowledge_base.content import load_content
    from knowledge_base.index import load_index

    settings = _settings()
    content = load_content(settings.kb_content_dir)
    _build_index(settings, force=False)
    findings = near_duplicates(load_index(settings.index_dir))
    if online:
        findings += asyncio.run(dead_sources(content))
    for finding in findings:
        print(finding.line())
    errors = sum(f.severity == "error" for f in findings)
    langs = sorted({lang for e in content.entries for lang in e.translations})
    print(
        f"{len(content.entries)} entries; languages: {', '.join(langs)}; "
        f"{errors} errors, {len(findings) - errors} warnings"
    )
    raise typer.Exit(1 if errors else 0)


@kb_app.command("search")
def kb_search(
    text: Annotated[str | None, typer.Argument(help="The question.")] = None,
    lang: Annotated[
        str | None, typer.Option(help="The user's language (detected if absent).")
    ] = None,
    jsonl: Annotated[bool, typer.Option(help="Read JSON lines {text, lang} from stdin.")] = False,
) -> None:
    """Search the knowledge base like the bot does; print the decision as JSON."""
    from bot.knowledge import open_knowledge_base

    if not jsonl and not text:
        raise typer.BadParameter("give a TEXT or --jsonl", param_hint="TEXT")
    kb = open_knowledge_base(_settings())
    if not jsonl:
        print(json.dumps(kb.search(text or "", lang).as_json(), ensure_ascii=False, indent=2))
        return
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            query, query_lang = str(item["text"]), item.get("lang")
        except (ValueError, KeyError, TypeError):
            print(json.dumps({"error": f'line {number}: expected {{"text": ..., "lang": ...}}'}))
            continue
        print(json.dumps(kb.search(query, query_lang).as_json(), ensure_ascii=False), flush=True)


@kb_app.command("eval")
def kb_eval(
    file: Annotated[Path, typer.Argument(help="Labelled JSONL: {text, lang, id|null} per line.")],
    show_misses: Annotated[bool, typer.Option(help="List the misses.")] = False,
) -> None:
    """Top-1, top-3, MRR per language, out-of-scope rejection and latency percentiles."""
    from bot.knowledge import open_knowledge_base
    from knowledge_base.evaluation import evaluate, read_labelled

    if not file.is_file():
        raise typer.BadParameter(f"{file} does not exist", param_hint="FILE")
    items = read_labelled(file)
    report = evaluate(open_knowledge_base(_settings()), items)
    print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    if show_misses:
        for miss in report.misses:
            print(json.dumps(miss, ensure_ascii=False))


@kb_app.command("calibrate")
def kb_calibrate(
    file: Annotated[Path, typer.Argument(help="Labelled JSONL: {text, lang, id|null} per line.")],
) -> None:
    """Choose answer/clarify thresholds on a labelled set; prints them and a 5-fold estimate."""
    from bot.knowledge import open_knowledge_base
    from knowledge_base.calibration import calibrate
    from knowledge_base.evaluation import read_labelled

    if not file.is_file():
        raise typer.BadParameter(f"{file} does not exist", param_hint="FILE")
    result = calibrate(open_knowledge_base(_settings()), read_labelled(file))
    print(json.dumps(result.as_json(), indent=2))


@kb_app.command("reload")
def kb_reload() -> None:
    """Tell the running action server to reload content and index (no restart)."""
    settings = _settings()
    try:
        response = httpx.post(
            f"{settings.actions_url}/kb/reload",
            timeout=300,
            headers={"Authorization": f"Bearer {settings.ensure_rasa_token()}"},
        )
    except httpx.HTTPError:
        raise UyumError(
            "the action server does not answer", hint="is `uyum run` running?"
        ) from None
    print(json.dumps(response.json(), indent=2))
    raise typer.Exit(0 if response.status_code == 200 else 1)


def main() -> None:
    """Entry point: one-line errors with a hint, never a traceback wall.

    Typer itself reports usage errors (unknown options, bad values) and exits 2.
    """
    try:
        app()
    except UyumError as exc:
        print(exc.one_line(), file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
