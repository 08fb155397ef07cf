"""The supervisor restarts a crashed worker, but stops everything when a server dies."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from bot import supervisor
from bot.supervisor import Child


def child(name: str, code: str, *, restart: bool) -> Child:
    return Child(name, [sys.executable, "-c", code], None, None, dict(os.environ), restart=restart)


async def test_a_crashed_worker_is_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "MAX_RESTARTS", 3)
    worker = child("worker", "import sys; sys.exit(3)", restart=True)
    server = child("gateway", "import time; time.sleep(30)", restart=False)
    for c in (worker, server):
        await supervisor._start(c)
    try:
        code = await asyncio.wait_for(supervisor._watch([worker, server], asyncio.Event()), 20)
    finally:
        await supervisor._stop([worker, server])
    assert worker.restarts == 3  # then it gave up and stopped everything
    assert code == 1


async def test_ctrl_c_stops_the_watch_with_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    server = child("gateway", "import time; time.sleep(30)", restart=False)
    await supervisor._start(server)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.3, stop.set)
    try:
        code = await asyncio.wait_for(supervisor._watch([server], stop), 10)
    finally:
        await supervisor._stop([server])
    assert code == 0
    assert server.process is not None and server.process.returncode is not None


async def test_background_children_run_at_lower_cpu_priority(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the child prints its own niceness and a new thread's: Linux keeps priority per thread
    code = (
        "import os, threading\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append(os.nice(0))); t.start(); t.join()\n"
        "print('niceness', os.nice(0), seen[0], flush=True)\n"
    )
    background = Child("rasa", [sys.executable, "-c", code], None, None, dict(os.environ), nice=7)
    await supervisor._start(background)
    try:
        assert background.process is not None and background.pump is not None
        assert await asyncio.wait_for(background.process.wait(), 20) == 0
        await asyncio.wait_for(background.pump, 5)
    finally:
        await supervisor._stop([background])
    expected = min(os.nice(0) + 7, 19)
    assert f"niceness {expected} {expected}" in capsys.readouterr().out
