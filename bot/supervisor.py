"""``uyum run``: start Rasa, the action server and the gateway; watch them; stop them together."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.settings import Settings
from common.errors import PortInUseError, ServiceError
from common.logs import json_line
from common.redact import redact_log

COLOURS = {"rasa": "35", "actions": "36", "gateway": "32", "worker": "33"}
STOP_GRACE_SECONDS = 10.0
MAX_RESTARTS = 10


@dataclass
class Child:
    name: str
    command: list[str]
    health_url: str | None  # None: ready once it has run for a second
    port: int | None
    env: dict[str, str]
    restart: bool = False  # a crashed child is started again (workers); else all stop
    nice: int = 0  # lower CPU priority (Unix niceness) for work that is not latency-critical
    json_logs: bool = False  # its output is passed on as JSON lines (common/logs.py)
    restarts: int = 0
    process: asyncio.subprocess.Process | None = None
    pump: asyncio.Task[None] | None = field(default=None, repr=False)


def check_port_free(host: str, port: int, name: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise PortInUseError(
                f"port {port} ({name}) on {host} is already in use",
                hint=f"stop what listens there, or set UYUM_{name.upper()}_PORT to a free port",
            ) from None


def _prefix(name: str) -> str:
    tag = f"[{name}]".ljust(10)
    return f"\033[{COLOURS.get(name, '0')}m{tag}\033[0m " if sys.stdout.isatty() else tag + " "


async def _pump(child: Child) -> None:
    """The child's output on ours, redacted again: Rasa and Sanic log through their own
    handlers, not through common.logs. With JSON logs, lines that are not JSON are wrapped."""
    assert child.process and child.process.stdout
    prefix = _prefix(child.name)
    async for raw in child.process.stdout:
        line = raw.decode("utf-8", errors="replace").rstrip()
        if not line:
            continue
        if child.json_logs:  # our own processes' lines are JSON already
            own = line.startswith('{"time"')
            print(redact_log(line) if own else json_line(child.name, line), flush=True)
        else:
            print(prefix + redact_log(line), flush=True)


async def _start(child: Child) -> None:
    # through nice(1): every thread the child starts inherits the priority (Linux keeps it per
    # thread), and no code runs between fork and exec in this threaded process
    command = ["nice", "-n", str(child.nice), *child.command] if child.nice else child.command
    child.process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=child.env,
        start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
    )
    child.pump = asyncio.create_task(_pump(child))


async def _wait_healthy(child: Child, deadline: float) -> None:
    if child.health_url is None:
        await asyncio.sleep(1.0)
        if child.process is not None and child.process.returncode is not None:
            raise ServiceError(f"{child.name} exited with code {child.process.returncode}")
        return
    async with httpx.AsyncClient(timeout=3.0) as client:
        while time.monotonic() < deadline:
            assert child.process is not None
            if child.process.returncode is not None:
                raise ServiceError(
                    f"{child.name} exited with code {child.process.returncode} while starting",
                    hint="read its log lines above",
                )
            with contextlib.suppress(httpx.HTTPError):
                response = await client.get(child.health_url)
                if response.status_code == 200 and _really_ready(child.name, response):
                    return
            await asyncio.sleep(0.5)
    raise ServiceError(
        f"{child.name} did not become healthy in time",
        hint="read its log lines above; UYUM_STARTUP_TIMEOUT gives it longer",
    )


def _really_ready(name: str, response: httpx.Response) -> bool:
    if name != "rasa":
        return True
    with contextlib.suppress(ValueError):
        return bool(response.json().get("model_file"))
    return False


async def _all_healthy(children: list[Child], deadline: float) -> None:
    await asyncio.gather(*(_wait_healthy(c, deadline) for c in children))


async def _stop(children: list[Child]) -> None:
    for child in reversed(children):
        if child.process and child.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGTERM)
    for child in children:
        if child.process is None:
            continue
        try:
            await asyncio.wait_for(child.process.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            await child.process.wait()
        if child.pump:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(child.pump, 2.0)


async def supervise(settings: Settings, children: list[Child], *, banner: str = "") -> int:
    """Start every child, wait for health, then watch; returns the exit code."""
    for child in children:
        if child.port is not None:
            check_port_free(settings.host, child.port, child.name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for child in children:
            await _start(child)
        deadline = time.monotonic() + settings.startup_timeout
        waiting: asyncio.Task[Any] = asyncio.create_task(_all_healthy(children, deadline))
        stopper: asyncio.Task[Any] = asyncio.create_task(stop.wait())
        first: set[asyncio.Task[Any]] = {waiting, stopper}
        done, _ = await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError, ServiceError):
                await waiting
            return 130
        stopper.cancel()
        waiting.result()  # raises the first ServiceError
        if banner:
            print(banner, flush=True)
        return await _watch(children, stop)
    finally:
        await _stop(children)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _watch(children: list[Child], stop: asyncio.Event) -> int:
    """Until Ctrl-C (0) or a child that may not restart dies (1); restarts the others."""
    while True:
        stopper = asyncio.create_task(stop.wait())
        waits = {asyncio.create_task(c.process.wait()) for c in children if c.process}
        done, pending = await asyncio.wait({stopper, *waits}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if stopper in done:
            return 0
        dead = next(c for c in children if c.process and c.process.returncode is not None)
        assert dead.process is not None
        code = dead.process.returncode
        if dead.restart and dead.restarts < MAX_RESTARTS:
            dead.restarts += 1
            print(
                f"warning: {dead.name} stopped (exit {code}); starting it again "
                f"({dead.restarts}/{MAX_RESTARTS})",
                file=sys.stderr,
                flush=True,
            )
            await _start(dead)
            continue
        print(
            f"error: {dead.name} stopped unexpectedly (exit {code}); stopping the others",
            file=sys.stderr,
            flush=True,
        )
        return 1
