"""Channels benchmark (issue #5): webhook acknowledgement, exactly-once under chaos, throughput.

    .venv/bin/python -m bench.channels            # the issue's sizes (about 10 minutes)
    .venv/bin/python -m bench.channels --quick    # smaller sizes, for a smoke run

Starts the real stack (`uyum run`: Rasa, action server, gateway, and the conversation worker
as its own restartable process) with Telegram and WhatsApp pointed at the local fake platform
APIs (bench/fake_platforms.py), then measures:

1. Webhook acknowledgement: 50 conversations (half Telegram, half WhatsApp), each writing at
   random moments, 25, 50 and 100 messages/s in all (Rasa answers about 20/s, so a backlog
   builds and the worker is busy all along); the time until each webhook returns 200.
   Target: p99 <= 100 ms.
2. Throughput: the same users and questions end to end (webhook -> worker -> Rasa -> reply at
   the fake API) and straight into Rasa's own REST channel, same model, alternated in one
   run (A B A B). Target: ours >= 70 % of Rasa REST.
3. Chaos: 1,000 messages from 100 chats (about 50 messages/s, so 150 webhooks/s), each
   webhook delivered 3 times (the copies arrive up to 3 s later),
   the fake APIs answering 429 or 500 to 20 % of sends, the worker killed (SIGKILL) twice
   and restarted by the supervisor. Every reply in the database is compared with what the
   fake platforms accepted, per chat and in order. Target: 0 lost, 0 duplicated, order kept.
   Like Telegram, the client keeps to 40 open connections; it reports both the webhook
   round trip and how long a webhook waited for one of those connections.

Everything runs on the embedded default (SQLite, the worker as its own process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np

from bench.fake_platforms import FakePlatforms
from bench.platform_users import PlatformUser, TelegramUser, WhatsAppUser
from bench.results import write
from bench.stack import Stack, child_processes, peak_rss_mb, start_stack, stop_stack, user_ref

#: Telegram opens at most 40 connections to a webhook by default (setWebhook max_connections);
#: the chaos run's client keeps to that, as an open-loop flood would only measure its own queue
PLATFORM_CONNECTIONS = 40
PARTS = ("ack", "throughput", "chaos")
SECRET = "bench-telegram-webhook-secret"  # noqa: S105 (the fakes' test secret)
QUESTIONS = [
    "ikamet iznimi nasıl uzatırım",
    "kimlik kartımı kaybettim ne yapmalıyım",
    "Türkçe kursuna nasıl kayıt olurum",
    "كيف أسجل ابني بالمدرسة",
    "أين أجد مستشفى قريب",
    "كيف أجدد الإقامة",
    "کارت شناسایی ام گم شده",
    "چطور در کلاس زبان ترکی ثبت نام کنم",
    "where can I learn Turkish for free",
    "how do I register my child at school",
    "where can I see a doctor",  # not the emergency number: an urgent entry brings a person
    "how can I get a work permit",
]


def pct(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {f"p{q}": round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99)}


@dataclass
class Poster:
    """Posts real-shaped webhooks for simulated users over one async HTTP client."""

    client: httpx.AsyncClient
    gateway: str

    async def post(self, user: PlatformUser, payload: dict[str, Any]) -> tuple[int, float]:
        started = time.perf_counter()
        if isinstance(user, TelegramUser):
            response = await self.client.post(
                f"{self.gateway}/webhooks/telegram",
                content=json.dumps(payload),
                headers={"Content-Type": "application/json",
                         "X-Telegram-Bot-Api-Secret-Token": SECRET},
            )  # fmt: skip
        else:
            assert isinstance(user, WhatsAppUser)
            signature = user.signature(payload)
            response = await self.client.post(
                f"{self.gateway}/webhooks/whatsapp",
                content=urlencode(payload),
                headers={"Content-Type": "application/x-www-form-urlencoded",
                         "X-Twilio-Signature": signature},
            )  # fmt: skip
        return response.status_code, time.perf_counter() - started


def payload(user: PlatformUser, text: str) -> dict[str, Any]:
    if isinstance(user, TelegramUser):
        return user.update(text)
    assert isinstance(user, WhatsAppUser)
    return dict(user.form(text))


def users(platforms: FakePlatforms, stack: Stack, count: int) -> list[PlatformUser]:
    made: list[PlatformUser] = []
    for i in range(count):
        if i % 2:
            made.append(WhatsAppUser(platforms, stack.gateway))
        else:
            made.append(TelegramUser(platforms, stack.gateway, SECRET))
    return made


def db_rows(stack: Stack, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(stack.data_dir / "uyum.db", timeout=30) as db:
        return list(db.execute(query, args).fetchall())


async def wait_drained(stack: Stack, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        [(inbound,)] = db_rows(
            stack, "SELECT count(*) FROM inbound_messages WHERE status='pending'"
        )
        [(outbox,)] = db_rows(stack, "SELECT count(*) FROM outbox_messages WHERE status='pending'")
        if inbound == 0 and outbox == 0:
            return True
        await asyncio.sleep(0.5)
    return False


# ------------------------------------------------------------------ 1. acknowledgement


async def acknowledgement(
    stack: Stack, platforms: FakePlatforms, conversations: int, rate: float, seconds: float
) -> dict[str, Any]:
    """Webhook round trips while ``conversations`` users write at ``rate`` messages/s in all.

    Each user's messages arrive at random (exponential gaps, as independent people write),
    while the worker and Rasa work through what came before.
    """
    people = users(platforms, stack, conversations)
    rng = random.Random(11)
    limits = httpx.Limits(max_connections=conversations, max_keepalive_connections=conversations)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        poster = Poster(client, stack.gateway)
        deadline = time.monotonic() + seconds

        async def talk(user: PlatformUser, offset: int) -> list[float]:
            times, i = [], 0
            await asyncio.sleep(rng.expovariate(rate / conversations))
            while time.monotonic() < deadline:
                text = QUESTIONS[(offset + i) % len(QUESTIONS)]
                status, took = await poster.post(user, payload(user, text))
                assert status == 200, status
                times.append(took)
                i += 1
                await asyncio.sleep(
                    min(rng.expovariate(rate / conversations), deadline - time.monotonic())
                )
            return times

        results = await asyncio.gather(*(talk(u, i) for i, u in enumerate(people)))
    samples = [t for times in results for t in times]
    drained = await wait_drained(stack, 900)
    return {
        "conversations": conversations,
        "webhooks": len(samples),
        "offered_per_second": round(len(samples) / seconds, 1),
        "ack_ms": pct(samples),
        "drained": drained,
    }


# ------------------------------------------------------------------ 2. chaos


async def chaos(
    stack: Stack, platforms: FakePlatforms, messages: int, per_conversation: int, kills: int
) -> dict[str, Any]:
    conversations = messages // per_conversation
    people = users(platforms, stack, conversations)
    rng = random.Random(5)
    platforms.set_faults(rate=0.2, codes=[429, 500], retry_after=1)
    before = {row[0] for row in db_rows(stack, "SELECT id FROM inbound_messages")}
    acks: list[float] = []
    waits: list[float] = []  # time a webhook waited for one of the platform's connections
    connections = asyncio.Semaphore(PLATFORM_CONNECTIONS)
    statuses: dict[int, int] = defaultdict(int)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        poster = Poster(client, stack.gateway)

        async def deliver(user: PlatformUser, body: dict[str, Any]) -> None:
            delays = [0.0, *sorted(rng.uniform(0, 3) for _ in range(2))]  # first, then 2 retries

            async def one(delay: float) -> None:
                await asyncio.sleep(delay)
                for _ in range(20):  # a platform retries until it gets a 2xx
                    queued = time.perf_counter()
                    async with connections:  # the platform's own limit of open connections
                        waits.append(time.perf_counter() - queued)
                        try:
                            status, took = await poster.post(user, body)
                        except httpx.HTTPError:
                            status, took = 0, 0.0
                    statuses[status] += 1
                    if status == 200:
                        acks.append(took)
                        return
                    await asyncio.sleep(1.0)

            await asyncio.gather(*(one(d) for d in delays))

        async def talk(user: PlatformUser, offset: int) -> None:
            pending = []
            for i in range(per_conversation):
                body = payload(user, QUESTIONS[(offset + i) % len(QUESTIONS)])
                pending.append(asyncio.create_task(deliver(user, body)))
                await asyncio.sleep(rng.uniform(1.0, 3.0))  # 100 chats: about 50 messages/s
            await asyncio.gather(*pending)

        async def killer() -> list[dict[str, Any]]:
            done_kills = []
            for k in range(kills):
                target = (k + 1) * messages // (kills + 1)
                while True:
                    [(done,)] = db_rows(
                        stack, "SELECT count(*) FROM inbound_messages WHERE status != 'pending'"
                    )
                    if done - len(before) >= target:
                        break
                    await asyncio.sleep(0.2)
                pid = child_processes(stack).get("worker")
                if pid:
                    os.kill(pid, signal.SIGKILL)
                    done_kills.append({"after_messages": done - len(before), "pid": pid})
                    await asyncio.sleep(2.0)
            return done_kills

        started = time.perf_counter()
        kill_task = asyncio.create_task(killer())
        await asyncio.gather(*(talk(u, i) for i, u in enumerate(people)))
        drained = await wait_drained(stack, 900)
        killed = await kill_task if kill_task.done() else []
        kill_task.cancel()
        elapsed = time.perf_counter() - started
    platforms.set_faults()
    await asyncio.sleep(2.0)  # the last sends' answers reach the fakes' record
    return verify(stack, platforms, people, before) | {
        "messages": messages,
        "deliveries_per_message": 3,
        "fault_rate": 0.2,
        "worker_kills": killed,
        "drained": drained,
        "seconds": round(elapsed, 1),
        "ack_ms": pct(acks),
        "platform_connections": PLATFORM_CONNECTIONS,
        "platform_queue_ms": pct(waits),
        "webhook_statuses": dict(statuses),
        "refused_sends": platforms.refused(),
    }


def verify(
    stack: Stack, platforms: FakePlatforms, people: list[PlatformUser], before: set[int]
) -> dict[str, Any]:
    """Compare the replies in the database with what the platforms accepted, chat by chat."""
    accepted: dict[str, list[str]] = defaultdict(list)
    for message in platforms.accepted():
        accepted[str(message["to"])].append(str(message["text"]))
    stored = lost = duplicated = out_of_order = unsent = 0
    for user in people:
        rows = db_rows(
            stack,
            "SELECT i.id, i.status FROM inbound_messages i JOIN conversations c"
            " ON c.id = i.conversation_id WHERE c.user_ref = ? ORDER BY i.id",
            user_ref(stack, user.channel, user.address),
        )
        stored += len([r for r in rows if r[0] not in before])
        lost += len([r for r in rows if r[1] == "pending"])
        outbox = db_rows(
            stack,
            "SELECT o.body, o.status FROM outbox_messages o JOIN conversations c"
            " ON c.id = o.conversation_id WHERE c.user_ref = ? ORDER BY o.id",
            user_ref(stack, user.channel, user.address),
        )
        unsent += len([r for r in outbox if r[1] != "sent"])
        expected = [json.loads(body)["text"] for body, status in outbox if status == "sent"]
        got = accepted.get(user.address, [])
        duplicated += max(0, len(got) - len(expected))
        lost += max(0, len(expected) - len(got))
        if len(got) == len(expected) and got != expected:
            out_of_order += 1
    return {
        "stored_messages": stored,
        "lost": lost + unsent,
        "duplicated_replies": duplicated,
        "chats_out_of_order": out_of_order,
    }


# ------------------------------------------------------------------ 3. throughput


async def ours(stack: Stack, platforms: FakePlatforms, count: int, seconds: float) -> float:
    people = users(platforms, stack, count)
    done = 0
    async with httpx.AsyncClient(timeout=60) as client:
        poster = Poster(client, stack.gateway)

        async def loop(user: PlatformUser, offset: int, deadline: float) -> None:
            nonlocal done
            i = 0
            while time.monotonic() < deadline:
                status, _ = await poster.post(
                    user, payload(user, QUESTIONS[(offset + i) % len(QUESTIONS)])
                )
                assert status == 200
                while True:  # the reply, as the user's phone would show it
                    response = await client.get(
                        f"{platforms.url}/_fake/inbox",
                        params={"to": user.address, "after": user.read, "wait": 10},
                    )
                    new = response.json()["messages"]
                    if new:
                        user.read += len(new)
                        break
                done += 1
                i += 1

        deadline = time.monotonic() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(loop(u, i, deadline) for i, u in enumerate(people)))
        elapsed = time.perf_counter() - started
    return done / elapsed


async def rasa_rest(stack: Stack, count: int, seconds: float) -> float:
    done = 0
    async with httpx.AsyncClient(timeout=60) as client:

        async def loop(sender: str, offset: int, deadline: float) -> None:
            nonlocal done
            i = 0
            while time.monotonic() < deadline:
                text = QUESTIONS[(offset + i) % len(QUESTIONS)]
                response = await client.post(
                    f"{stack.rasa}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                )
                assert response.status_code == 200 and response.json()
                done += 1
                i += 1

        deadline = time.monotonic() + seconds
        started = time.perf_counter()
        tag = f"{time.time():.0f}"
        await asyncio.gather(*(loop(f"rest-{tag}-{i}", i, deadline) for i in range(count)))
        elapsed = time.perf_counter() - started
    return done / elapsed


async def throughput(
    stack: Stack, platforms: FakePlatforms, count: int, seconds: float, rounds: int
) -> dict[str, Any]:
    rest_rates, our_rates = [], []
    for _ in range(rounds):  # A B A B: the machine's noise hits both sides alike
        rest_rates.append(await rasa_rest(stack, count, seconds))
        await wait_drained(stack, 120)
        our_rates.append(await ours(stack, platforms, count, seconds))
        await wait_drained(stack, 120)
    rest, ours_ = float(np.mean(rest_rates)), float(np.mean(our_rates))
    return {
        "concurrent_users": count,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "rasa_rest_msgs_per_s": [round(r, 2) for r in rest_rates],
        "uyum_msgs_per_s": [round(r, 2) for r in our_rates],
        "ratio": round(ours_ / rest, 3),
    }


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description="Channels benchmark (issue #5)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="run only this part (repeatable); all three by default",
    )
    args = parser.parse_args()
    quick, parts = args.quick, args.only or list(PARTS)
    platforms = FakePlatforms()
    tmp = Path(tempfile.mkdtemp(prefix="uyum-bench-channels-"))
    env = {
        **platforms.env(),
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "UYUM_TWILIO_MAX_PER_SECOND": "80",
        "UYUM_LOG_LEVEL": "WARNING",
    }
    figures: dict[str, Any] = {"acknowledgement": []}
    stack = start_stack(tmp, env)
    try:
        for rate in (25.0, 50.0, 100.0) if "ack" in parts else ():
            print(f"1/3 webhook acknowledgement, 50 conversations, {rate:.0f} msg/s …")
            result = asyncio.run(
                acknowledgement(stack, platforms, 50, rate, 5.0 if quick else 20.0)
            )
            figures["acknowledgement"].append(result)
            print(json.dumps(result), flush=True)
        if "throughput" in parts:
            print("2/3 throughput, side by side with Rasa's REST channel …", flush=True)
            figures["throughput"] = asyncio.run(
                throughput(
                    stack,
                    platforms,
                    20 if quick else 30,
                    15.0 if quick else 40.0,
                    1 if quick else 2,
                )
            )
            print(json.dumps(figures["throughput"]), flush=True)
        if "chaos" in parts:
            print("3/3 chaos: retries, platform errors, worker kills …", flush=True)
            figures["chaos"] = asyncio.run(chaos(stack, platforms, 200 if quick else 1000, 10, 2))
            print(json.dumps(figures["chaos"]), flush=True)
        figures["peak_rss_mb"] = {
            role: peak_rss_mb(pid) for role, pid in child_processes(stack).items()
        }
    finally:
        stop_stack(stack)
        platforms.stop()
    report(figures)
    only = "" if len(parts) == len(PARTS) else "-" + "-".join(parts)
    write("channels" + only + ("-quick" if quick else ""), figures)


def report(figures: dict[str, Any]) -> None:
    rows = [
        (f"webhook ack p50/p95/p99 (ms), 50 conversations, {ack['offered_per_second']} msg/s",
         "{p50} / {p95} / {p99}".format(**ack["ack_ms"]), "p99 <= 100")
        for ack in figures["acknowledgement"]
    ]  # fmt: skip
    if "chaos" in figures:
        chaos_ = figures["chaos"]
        rows += [
            ("chaos: messages stored", str(chaos_["stored_messages"]), str(chaos_["messages"])),
            ("chaos: lost", str(chaos_["lost"]), "0"),
            ("chaos: duplicated replies", str(chaos_["duplicated_replies"]), "0"),
            ("chaos: chats out of order", str(chaos_["chats_out_of_order"]), "0"),
            ("chaos: worker kills", str(len(chaos_["worker_kills"])), "2"),
            ("chaos: ack p50/p95/p99 (ms)", "{p50} / {p95} / {p99}".format(**chaos_["ack_ms"]), ""),
            ("chaos: wait for a platform connection p99 (ms)",
             str(chaos_["platform_queue_ms"]["p99"]), ""),
            ]  # fmt: skip
    if "throughput" in figures:
        tp = figures["throughput"]
        rows += [
            ("throughput Rasa REST (msg/s)", str(tp["rasa_rest_msgs_per_s"]), ""),
            ("throughput Uyum end to end (msg/s)", str(tp["uyum_msgs_per_s"]), ""),
            ("throughput ratio", str(tp["ratio"]), ">= 0.7"),
            ]  # fmt: skip
    rows.append(
        ("peak RSS (MB)", ", ".join(f"{k} {v}" for k, v in figures["peak_rss_mb"].items()), "")
    )
    width = max(len(r[0]) for r in rows)
    print()
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value:<32} {('target ' + target) if target else ''}")


if __name__ == "__main__":
    main()
