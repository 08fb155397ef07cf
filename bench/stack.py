"""The whole stack, started the way a person starts it (`uyum run`), on free ports.

Used by the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
UYUM = ROOT / ".venv" / "bin" / "uyum"
STARTUP_SECONDS = 300
OWN_PREFIXES = ("UYUM_", "TELEGRAM_", "TWILIO_", "PUBLIC_BASE_URL")  # a developer's own settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    process: subprocess.Popen[str]
    env: dict[str, str]
    gateway: str
    rasa: str
    actions: str
    data_dir: Path
    log: Path

    def user(self, channel: str = "telegram", **kwargs: Any) -> SandboxUser:
        return SandboxUser(self.gateway, channel, f"e2e{uuid.uuid4().hex[:8]}", **kwargs)

    def logs(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class SandboxUser:
    """A person in the sandbox chat: says something, waits for the bot's replies."""

    gateway: str
    channel: str
    user: str
    language_hint: str | None = None
    seen: int = 0
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, *, expect: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.gateway}/sandbox/api/messages",
            json={
                "channel": self.channel,
                "user": self.user,
                "text": text,
                "language_hint": self.language_hint,
            },
            timeout=10,
        )
        assert response.status_code == 202, response.text
        return self.replies(expect=expect, timeout=timeout)

    def replies(self, *, expect: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        def fetch(wait: float) -> list[dict[str, Any]]:
            new: list[dict[str, Any]] = httpx.get(
                f"{self.gateway}/sandbox/api/messages",
                params={"channel": self.channel, "user": self.user, "after": self.seen,
                        "wait": wait},
                timeout=wait + 10,
            ).json()["messages"]  # fmt: skip
            self.seen = max([self.seen, *(m["id"] for m in new)])
            return new

        got = long_poll(fetch, expect=expect, timeout=timeout)
        self.transcript.extend(got)
        return got


def long_poll(
    fetch: Callable[[float], list[dict[str, Any]]], *, expect: int, timeout: float
) -> list[dict[str, Any]]:
    """Messages from ``fetch(wait)`` until ``expect`` arrived and nothing more follows."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait = 0.8 if len(got) >= expect else min(5.0, deadline - time.monotonic())
        new = fetch(wait)
        if not new and len(got) >= expect:
            break
        got.extend(new)
    assert len(got) >= expect, f"expected {expect} replies, got {got}"
    return got


def start_stack(tmp: Path, extra_env: dict[str, str] | None = None) -> Stack:
    tmp.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("GATEWAY", "RASA", "ACTIONS")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update({f"UYUM_{name}_PORT": str(port) for name, port in ports.items()})
    env.update(
        UYUM_DATA_DIR=str(tmp / "var"),
        UYUM_KB_INDEX_DIR=str(ROOT / "var" / "index"),  # built by `make test` (reused, not rebuilt)
        UYUM_STARTUP_TIMEOUT=str(STARTUP_SECONDS),
        UYUM_LOG_LEVEL="INFO",
        UYUM_PUBLIC_BASE_URL=f"http://127.0.0.1:{ports['GATEWAY']}",  # Twilio signs over it
        # simulated users write faster than any person: the flood limit (tests/bot/test_worker)
        # would silence them and the load measurements would measure the limit instead
        UYUM_USER_MESSAGES_PER_MINUTE="100000",
    )
    env.update(extra_env or {})
    log = tmp / "stack.log"
    with log.open("w", encoding="utf-8") as handle:  # the child keeps its own copy of the fd
        process = subprocess.Popen(
            [str(UYUM), "run"],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    stack = Stack(
        process,
        env,
        f"http://127.0.0.1:{ports['GATEWAY']}",
        f"http://127.0.0.1:{ports['RASA']}",
        f"http://127.0.0.1:{ports['ACTIONS']}",
        tmp / "var",
        log,
    )
    deadline = time.monotonic() + STARTUP_SECONDS + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"uyum run exited {process.returncode}:\n{stack.logs()[-4000:]}")
        if "Uyum is running" in stack.logs():
            return stack
        time.sleep(1)
    stop_stack(stack)
    raise AssertionError(f"stack did not start:\n{stack.logs()[-4000:]}")


def stop_stack(stack: Stack) -> int:
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
        try:
            stack.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(stack.process.pid, signal.SIGKILL)
            stack.process.wait()
    return stack.process.returncode


def kill_stack(stack: Stack) -> None:
    """A power cut: SIGKILL to `uyum run` and every process it started (each has its own
    session, so killing the supervisor's group alone would leave them running)."""
    children = child_processes(stack)
    for pid in [stack.process.pid, *children.values()]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    stack.process.wait()
    stack.log.rename(stack.log.with_suffix(".killed.log"))  # a new start writes its own


def user_ref(stack: Stack, channel: str, user: str) -> str:
    """The pseudonym the stack stores a platform user under (its keys are in its data folder)."""
    settings = Settings(data_dir=stack.data_dir, _env_file=None)
    return settings.identities().pseudonym(channel, user)


def rasa_tracker(stack: Stack, sender: str) -> dict[str, Any]:
    token = (stack.data_dir / "run-token").read_text("utf-8").strip()
    response = httpx.get(f"{stack.rasa}/conversations/{sender}/tracker", params={"token": token})
    return dict(json.loads(response.text))


def child_processes(stack: Stack) -> dict[str, int]:
    """The pids of the stack's processes, by role (rasa, actions, gateway, worker)."""
    found: dict[str, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if ppid != stack.process.pid:
            continue
        for role, marker in ROLES.items():
            if marker in args:
                found[role] = int(proc.name)
    return found


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


ROLES = {
    "rasa": "rasa run",
    "actions": "serve actions",
    "gateway": "serve gateway",
    "worker": "serve worker",
}


def add_operator(
    stack: Stack, username: str, password: str, *, languages: str = "tr", role: str = "operator"
) -> None:
    """A console account in the stack's database, made with ``uyum operators add``."""
    done = subprocess.run(
        [str(UYUM), "operators", "add", username, "--name", username.title(),
         "--languages", languages, "--role", role, "--password-stdin"],
        input=password + "\n", env=stack.env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"uyum operators add failed: {done.stderr}")
