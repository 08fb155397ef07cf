"""Message latency through the real stack, single stream and concurrent.

    .venv/bin/python -m bench.message_latency

Starts `uyum run` on free ports (the trained model and built index are reused), then:
1. Rasa + action server: messages posted to Rasa's REST channel one at a time, with the language
   decided, as the gateway's worker does (targets: p50 <= 60 ms, p95 <= 150 ms).
2. The whole path: sandbox API -> inbound table -> worker -> Rasa -> actions -> outbox ->
   sender -> sandbox mailbox, one user at a time and 10 users at once.
Also prints the resident memory of each process.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

from bench.results import write
from bench.stack import Stack, start_stack, stop_stack
from knowledge_base.language import detect_language

MESSAGES = [
    "merhaba",
    "ikamet iznimi nasıl uzatırım",
    "مرحبا",
    "كيف أسجل ابني بالمدرسة",
    "سلام",
    "کارت شناسایی ام گم شده",
    "hello",
    "where can I learn Turkish for free",
    "menu",
    "thanks",
    "بدي احكي مع موظف",
    "e-devlet şifresi nereden alınır",
    "what is the weather tomorrow",
    "my husband hits me",
    "فارسی",
    "goodbye",
]
# these hand the chat to a person (asked for; protection words): the bot is then silent by
# design, so the whole-path streams leave them out (Rasa + actions still measures them)
TO_A_PERSON = {"بدي احكي مع موظف", "my husband hits me"}
ROUNDS = 8


REPLY_DEADLINE = 120.0  # seconds: a message left unanswered fails the run, never hangs it


def pct(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {f"p{q}": round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99)}


def rasa_single_stream(stack: Stack) -> dict[str, float]:
    times = []
    with httpx.Client(timeout=30) as client:
        for round_ in range(ROUNDS):
            sender, language = f"bench-{round_}-{uuid.uuid4().hex[:6]}", None
            for text in MESSAGES:
                started = time.perf_counter()
                language = detect_language(text, current=language).lang  # as the worker does
                metadata = {"channel": "telegram", "language": language}
                response = client.post(
                    f"{stack.rasa}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text, "metadata": metadata},
                )
                response.raise_for_status()
                assert response.json(), f"no reply to {text!r}"
                times.append(time.perf_counter() - started)
    return pct(times)


async def _user_round_trips(
    stack: Stack, client: httpx.AsyncClient, texts: list[str]
) -> list[float]:
    user, seen, times = f"b{uuid.uuid4().hex[:8]}", 0, []
    for text in texts:
        started = time.perf_counter()
        await client.post(
            f"{stack.gateway}/sandbox/api/messages",
            json={"channel": "telegram", "user": user, "text": text},
        )
        while True:
            if time.perf_counter() - started > REPLY_DEADLINE:
                raise AssertionError(f"no reply to {text!r} in {REPLY_DEADLINE:.0f} s")
            response = await client.get(
                f"{stack.gateway}/sandbox/api/messages",
                params={"channel": "telegram", "user": user, "after": seen, "wait": 10},
            )
            messages = response.json()["messages"]
            if messages:
                seen = max(m["id"] for m in messages)
                break
        times.append(time.perf_counter() - started)
        await asyncio.sleep(0.3)  # let the rest of a multi-message reply arrive
        response = await client.get(
            f"{stack.gateway}/sandbox/api/messages",
            params={"channel": "telegram", "user": user, "after": seen},
        )
        seen = max([seen, *(m["id"] for m in response.json()["messages"])])
    return times


async def whole_path(stack: Stack, users: int) -> tuple[dict[str, float], float]:
    bot_only = [m for m in MESSAGES if m not in TO_A_PERSON]
    texts = list(itertools.islice(itertools.cycle(bot_only), 2 * len(MESSAGES)))
    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(_user_round_trips(stack, client, texts) for _ in range(users))
        )
        elapsed = time.perf_counter() - started
    samples = [t for r in results for t in r]
    return pct(samples), round(len(samples) / elapsed, 1)


def rss_mb() -> dict[str, float]:
    import subprocess

    out = subprocess.run(
        ["ps", "-eo", "rss,args"], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, float] = {}
    for line in out.splitlines()[1:]:
        rss, _, args = line.strip().partition(" ")
        for name, marker in (
            ("rasa", "rasa run"),
            ("actions", "serve actions"),
            ("gateway", "serve gateway"),
        ):
            if marker in args:
                found[name] = round(int(rss) / 1024, 0)
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp))
        try:
            rasa = rasa_single_stream(stack)
            print(f"Rasa + action server, single stream: {rasa} ms (target p50 <= 60, p95 <= 150)")
            single, single_rate = asyncio.run(whole_path(stack, 1))
            print(f"whole path, 1 user: {single} ms, {single_rate} msg/s")
            ten, ten_rate = asyncio.run(whole_path(stack, 10))
            print(f"whole path, 10 users at once: {ten} ms, {ten_rate} msg/s")
            memory = rss_mb()
            print(f"resident memory (MB): {memory}")
        finally:
            stop_stack(stack)
    write(
        "message_latency",
        {
            "rasa_single_stream_ms": rasa,
            "whole_path_1_user_ms": single,
            "whole_path_1_user_msgs_per_s": single_rate,
            "whole_path_10_users_ms": ten,
            "whole_path_10_users_msgs_per_s": ten_rate,
            "rss_mb": memory,
            "targets": {"p50_ms": 60, "p95_ms": 150},
        },
    )


if __name__ == "__main__":
    main()
