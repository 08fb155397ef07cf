"""Local stand-ins for the Telegram Bot API and Twilio's REST API: real HTTP servers.

They accept what the real APIs accept (the same paths, auth and encodings), record every
message they accept, and can be told to fail: answer 429 or 500 to a share of sends,
hang past the client's timeout, or refuse chats that "blocked the bot". Twilio's status
callbacks are posted back, signed with the account's auth token like the real ones.

Run: ``python -m bench.fake_platforms --port 0`` (prints the port); tests and benchmarks use
:class:`FakePlatforms`, which starts it as a separate process and reads the control API.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from twilio.request_validator import RequestValidator

from bench.stack import ROOT, free_port


@dataclass
class Faults:
    rate: float = 0.0  # share of sends that fail
    codes: list[int] = field(default_factory=lambda: [429, 500])
    retry_after: int = 1  # seconds, in Telegram's 429 answers
    hang_rate: float = 0.0  # share of sends answered only after hang_seconds
    hang_seconds: float = 30.0
    blocked: list[str] = field(default_factory=list)  # chat ids / numbers that blocked the bot


@dataclass
class World:
    telegram_token: str
    twilio_sid: str
    twilio_token: str
    faults: Faults = field(default_factory=Faults)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    inboxes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    refused: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)  # other Bot API calls
    updates: list[dict[str, Any]] = field(default_factory=list)  # for getUpdates
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    contents: dict[str, dict[str, Any]] = field(default_factory=dict)  # Content API, by sid
    callbacks: httpx.AsyncClient | None = None  # posts Twilio's status callbacks

    def accept(self, message: dict[str, Any]) -> None:
        self.accepted.append(message)
        self.inboxes.setdefault(message["to"], []).append(message)
        self.arrived.set()
        self.arrived = asyncio.Event()

    def fault(self, recipient: str) -> int | str | None:
        """The failure this send gets, if any: a status code, or "hang"."""
        if recipient in self.faults.blocked:
            return 403
        roll = self.rng.random()
        if roll < self.faults.hang_rate:
            return "hang"
        if roll < self.faults.hang_rate + self.faults.rate:
            return self.rng.choice(self.faults.codes)
        return None


async def _params(request: Request) -> dict[str, Any]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def create_app(world: World) -> FastAPI:
    app = FastAPI()

    # --- Telegram Bot API -------------------------------------------------------------
    @app.post("/bot{token}/{method}")
    async def telegram(token: str, method: str, request: Request) -> Response:
        if token != world.telegram_token:
            return _tg_error(401, "Unauthorized")
        params = await _params(request)
        if method in ("sendMessage", "sendPhoto"):
            return await _telegram_send(world, method, params)
        if method == "getUpdates":
            return await _telegram_updates(world, params)
        world.calls.append({"method": method, "params": params})
        results: dict[str, Any] = {
            "getMe": {"id": 1, "is_bot": True, "first_name": "Uyum", "username": "uyum_bot"},
            "getWebhookInfo": {"url": "", "has_custom_certificate": False,
                               "pending_update_count": 0},
        }  # fmt: skip
        return JSONResponse({"ok": True, "result": results.get(method, True)})

    # --- Twilio REST API --------------------------------------------------------------
    @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
    async def twilio_send(sid: str, request: Request) -> Response:
        if sid != world.twilio_sid or not _twilio_auth_ok(world, request):
            return _twilio_error(401, 20003, "Authenticate")
        params = await _params(request)
        to = str(params.get("To", ""))
        if not to or not (params.get("Body") or params.get("ContentSid")):
            return _twilio_error(400, 21602, "Message body is required.")
        failure = world.fault(to)
        if failure == "hang":
            await asyncio.sleep(world.faults.hang_seconds)
        elif failure == 403:
            world.refused += 1
            return _twilio_error(400, 63003, "Channel could not find To address")
        elif isinstance(failure, int):
            world.refused += 1
            return _twilio_error(failure, 20429 if failure == 429 else 20500, "fake failure")
        rendered = _render_content(world, params)
        if isinstance(rendered, Response):
            return rendered
        message_sid = f"SM{next(world.ids):032x}"
        world.accept(
            {
                "platform": "twilio",
                "id": message_sid,
                "to": to,
                "from": params.get("From") or params.get("MessagingServiceSid"),
                "text": params.get("Body", ""),
                "content_sid": params.get("ContentSid"),
                "content_variables": params.get("ContentVariables"),
                "at": time.time(),
                **rendered,
            }
        )
        callback = params.get("StatusCallback")
        if callback:
            task = asyncio.create_task(_status_callbacks(world, str(callback), message_sid, to))
            world.tasks.add(task)
            task.add_done_callback(world.tasks.discard)
        body = {"sid": message_sid, "account_sid": sid, "to": to, "status": "queued",
                "body": params.get("Body", ""), "direction": "outbound-api"}  # fmt: skip
        return JSONResponse(body, status_code=201)

    # --- Twilio Content API (content.twilio.com) ---------------------------------------
    @app.post("/v1/Content")
    async def content_create(request: Request) -> Response:
        if not _twilio_auth_ok(world, request):
            return _twilio_error(401, 20003, "Authenticate")
        params = await _params(request)
        if not params.get("friendly_name") or not isinstance(params.get("types"), dict):
            return _twilio_error(400, 20001, "friendly_name and types are required")
        sid = f"HX{next(world.ids):032x}"
        world.contents[sid] = {**params, "sid": sid, "account_sid": world.twilio_sid}
        world.calls.append({"method": "content.create", "params": params})
        return JSONResponse(world.contents[sid], status_code=201)

    @app.get("/v1/Content")
    async def content_list(request: Request, PageSize: int = 50) -> Response:  # noqa: N803
        if not _twilio_auth_ok(world, request):
            return _twilio_error(401, 20003, "Authenticate")
        world.calls.append({"method": "content.list", "params": {}})
        meta = {"page": 0, "page_size": PageSize, "key": "contents", "next_page_url": None,
                "first_page_url": str(request.url), "previous_page_url": None,
                "url": str(request.url)}  # fmt: skip
        return JSONResponse({"contents": list(world.contents.values())[:PageSize], "meta": meta})

    # --- control API ------------------------------------------------------------------
    @app.get("/_fake/accepted")
    async def accepted(after: int = 0) -> dict[str, Any]:
        return {"messages": world.accepted[after:], "refused": world.refused}

    @app.get("/_fake/inbox")
    async def inbox(to: str, after: int = 0, wait: float = 0.0) -> dict[str, Any]:
        """Messages to one recipient from index ``after`` on, waiting up to ``wait`` s for one."""
        deadline = time.monotonic() + min(wait, 30.0)
        while len(world.inboxes.get(to, [])) <= after and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(world.arrived.wait(), deadline - time.monotonic())
        return {"messages": world.inboxes.get(to, [])[after:]}

    @app.get("/_fake/calls")
    async def calls() -> dict[str, Any]:
        return {"calls": world.calls}

    @app.post("/_fake/faults")
    async def set_faults(request: Request) -> dict[str, Any]:
        world.faults = Faults(**await request.json())
        return {"ok": True}

    @app.post("/_fake/updates")
    async def add_updates(request: Request) -> dict[str, Any]:
        world.updates.extend(await request.json())
        return {"ok": True}

    @app.post("/_fake/reset")
    async def reset() -> dict[str, Any]:
        world.faults, world.accepted, world.calls, world.refused = Faults(), [], [], 0
        world.inboxes = {}
        return {"ok": True}

    return app


async def _telegram_send(world: World, method: str, params: dict[str, Any]) -> Response:
    chat_id = str(params.get("chat_id", ""))
    text = params.get("text") if method == "sendMessage" else params.get("caption", "")
    if not chat_id or (method == "sendMessage" and not text):
        return _tg_error(400, "Bad Request: message text is empty")
    if method == "sendMessage" and len(str(text)) > 4096:
        return _tg_error(400, "Bad Request: message is too long")
    failure = world.fault(chat_id)
    if failure == "hang":
        await asyncio.sleep(world.faults.hang_seconds)
    elif failure == 403:
        world.refused += 1
        return _tg_error(403, "Forbidden: bot was blocked by the user")
    elif failure == 429:
        world.refused += 1
        wait = world.faults.retry_after
        return _tg_error(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
    elif isinstance(failure, int):
        world.refused += 1
        return _tg_error(failure, "Internal Server Error")
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    message_id = next(world.ids)
    world.accept(
        {
            "platform": "telegram",
            "id": message_id,
            "to": chat_id,
            "text": text,
            "buttons": [b for row in (markup or {}).get("inline_keyboard", []) for b in row],
            "at": time.time(),
        }
    )
    result = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else 0, "type": "private"},
        "text": text,
    }
    return JSONResponse({"ok": True, "result": result})


async def _telegram_updates(world: World, params: dict[str, Any]) -> Response:
    offset = int(params.get("offset") or 0)
    deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
    while True:
        pending = [u for u in world.updates if u["update_id"] >= offset]
        if pending or time.monotonic() >= deadline:
            return JSONResponse({"ok": True, "result": pending[:100]})
        await asyncio.sleep(0.05)


async def _status_callbacks(world: World, url: str, sid: str, to: str) -> None:
    validator = RequestValidator(world.twilio_token)
    if world.callbacks is None:  # one client for all: making one per message costs ~10 ms CPU
        world.callbacks = httpx.AsyncClient(timeout=10)
    for status in ("sent", "delivered"):
        await asyncio.sleep(0.05)
        form = {"MessageSid": sid, "MessageStatus": status, "To": to,
                "AccountSid": world.twilio_sid}  # fmt: skip
        headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
        try:
            await world.callbacks.post(url, data=form, headers=headers)
        except httpx.HTTPError:
            return


def _render_content(world: World, params: dict[str, Any]) -> dict[str, Any] | Response:
    """A quick-reply Content template filled with its variables, as the user would see it.

    Refuses what Twilio refuses (error 21656): missing or empty variables, and body
    variables holding a newline, a tab or more than four spaces in a row.
    """
    content = world.contents.get(str(params.get("ContentSid") or ""))
    if content is None:
        return {}  # a plain message, or an approved template this fake does not know
    try:
        variables = json.loads(str(params.get("ContentVariables") or "{}"))
    except ValueError:
        return _twilio_error(400, 21656, "The ContentVariables Parameter is invalid")
    quick = content["types"].get("twilio/quick-reply") or {}

    def fill(template: str, *, body: bool = False) -> str | None:
        def value(match: re.Match[str]) -> str:
            return str(variables.get(match.group(1), ""))

        filled = re.sub(r"\{\{(\w+)\}\}", value, template)
        names = re.findall(r"\{\{(\w+)\}\}", template)
        if any(not str(variables.get(n, "")) for n in names):
            return None
        if body and any(re.search(r"[\n\t]| {5,}", str(variables[n])) for n in names):
            return None
        return filled

    text = fill(str(quick.get("body", "")), body=True)
    buttons = [(fill(a.get("title", "")), fill(a.get("id", ""))) for a in quick.get("actions", [])]
    if text is None or any(t is None or i is None for t, i in buttons):
        return _twilio_error(400, 21656, "The ContentVariables Parameter is invalid")
    return {"text": text, "buttons": [{"title": t, "payload": i} for t, i in buttons]}


def _twilio_auth_ok(world: World, request: Request) -> bool:
    header = request.headers.get("authorization", "")
    expected = base64.b64encode(f"{world.twilio_sid}:{world.twilio_token}".encode()).decode()
    return header == f"Basic {expected}"


def _tg_error(code: int, description: str, parameters: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


def _twilio_error(status: int, code: int, message: str) -> Response:
    body = {"code": code, "message": message, "status": status, "more_info": ""}
    return JSONResponse(body, status_code=status)


class FakePlatforms:
    """The fake APIs in their own process, and a client for their control API."""

    telegram_token = "123456:fake-telegram-token"  # noqa: S105 (a fake's own credentials)
    twilio_sid = "AC" + "0" * 32
    twilio_token = "fake-twilio-auth-token"  # noqa: S105

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_platforms", "--port", str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/_fake/calls", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the fake platform APIs did not start")

    def env(self) -> dict[str, str]:
        """The gateway settings that point Uyum's channels at these fakes."""
        return {
            "TELEGRAM_BOT_TOKEN": self.telegram_token,
            "TELEGRAM_API_BASE_URL": self.url,
            "TWILIO_ACCOUNT_SID": self.twilio_sid,
            "TWILIO_AUTH_TOKEN": self.twilio_token,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "TWILIO_API_BASE_URL": self.url,
        }

    def accepted(self, after: int = 0) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = httpx.get(
            f"{self.url}/_fake/accepted", params={"after": after}, timeout=10
        ).json()["messages"]
        return messages

    def refused(self) -> int:
        return int(httpx.get(f"{self.url}/_fake/accepted", timeout=10).json()["refused"])

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = httpx.get(f"{self.url}/_fake/calls", timeout=10).json()[
            "calls"
        ]
        return calls

    def set_faults(self, **faults: Any) -> None:
        httpx.post(f"{self.url}/_fake/faults", json=faults, timeout=10).raise_for_status()

    def add_updates(self, updates: list[dict[str, Any]]) -> None:
        httpx.post(f"{self.url}/_fake/updates", json=updates, timeout=10).raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.url}/_fake/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    world = World(
        FakePlatforms.telegram_token, FakePlatforms.twilio_sid, FakePlatforms.twilio_token
    )
    uvicorn.run(create_app(world), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
