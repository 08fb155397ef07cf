"""Handover benchmark (issue #6): operator reply latency, live queue updates, bot silence.

    .venv/bin/python -m bench.handover            # 40 users, 4 operators (a few minutes)
    .venv/bin/python -m bench.handover --quick    # 12 users, 3 operators

Starts the real stack (`uyum run`) with WhatsApp pointed at the local fake Twilio API, makes
operator accounts with `uyum operators add`, signs them in through the operator API and
keeps a console's event stream (SSE) open. Then:

1. Every user greets the bot, asks for a person and, without waiting, sends three more
   messages; meanwhile all users keep writing every ~0.5 s for the whole run.
2. The operators claim the chats concurrently (exactly one claim per chat may win) and
   answer each user three times, 0.5-1.5 s apart (people type; together they stay under the
   sender's 10 messages/s). Reply latency: from the operator's POST to the moment the fake
   Twilio API accepted the message (its own clock). Target: p95 <= 300 ms.
3. Queue updates: from a handover's creation (database time) to the moment its event
   reached the open event stream. Target: within 1 s.
4. The operators close every chat; each user writes again and must get the bot's answer.
5. Bot silence: no user message received while a handover was open may have a bot reply
   (checked in the database: replies are linked to the message they answer). Target: 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.fake_platforms import FakePlatforms
from bench.platform_users import WhatsAppUser
from bench.results import write
from bench.stack import Stack, add_operator, start_stack, stop_stack
from bot import texts
from bot.settings import Settings

PASSWORD = "bench-operator-password"  # noqa: S105 (a throw-away stack's account)
# seconds an operator takes for the next reply; 4 operators stay under the sender's limit of
# 10 WhatsApp messages/s (UYUM_TWILIO_MAX_PER_SECOND), so queueing behind it is not measured
TYPING_SECONDS = (0.5, 1.5)
CHATTER = ["hâlâ bekliyorum", "kimliğimi kaybettim", "ne zaman cevap verirsiniz?", "teşekkürler"]


class EventStream(threading.Thread):
    """An open console: reads ``/api/v1/events`` and notes when each event arrived."""

    def __init__(self, gateway: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = f"{gateway}/api/v1/events", token
        self.received: dict[int, float] = {}  # handover id -> arrival (epoch seconds)
        self.connected = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.stream(
            "GET", self.url, headers=headers, timeout=httpx.Timeout(10, read=60)
        ) as response:
            self.connected.set()
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event["kind"] == "handover_created":
                        self.received.setdefault(event["handover_id"], time.time())


def sign_in(gateway: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=gateway, timeout=30)
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    response.raise_for_status()
    client.cookies.clear()  # bearer token: no CSRF header needed for an API client
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return client


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    array = np.array(values) * 1000
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(array, 50)), 1),
        "p95_ms": round(float(np.percentile(array, 95)), 1),
        "max_ms": round(float(array.max()), 1),
    }


def run(
    stack: Stack, platforms: FakePlatforms, users_count: int, operators_count: int
) -> dict[str, Any]:
    names = [f"op{i}" for i in range(operators_count)]
    for name in names:
        add_operator(stack, name, PASSWORD, languages="tr")
    add_operator(stack, "lead", PASSWORD, role="supervisor")
    operators = [sign_in(stack.gateway, name) for name in names]
    supervisor = sign_in(stack.gateway, "lead")
    stream = EventStream(stack.gateway, supervisor.headers["Authorization"][7:])
    stream.start()
    stream.connected.wait(10)
    time.sleep(0.5)

    users = [WhatsAppUser(platforms, stack.gateway) for _ in range(users_count)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda u: u.say("Merhaba"), users))
    print(f"[handover] {users_count} users greeted; asking for a person ...", flush=True)

    def ask(user: WhatsAppUser) -> None:
        for text in ["bir kişiyle konuşmak istiyorum", *random.sample(CHATTER, 3)]:
            assert user.post(user.form(text)).status_code == 200

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(ask, users))
    queued = wait_for(
        lambda: (lambda rows: rows if len(rows) >= users_count else None)(
            supervisor.get("/api/v1/handovers", params={"state": "queued"}).json()["handovers"]
        ),
        120,
        "every user's handover",
    )
    print(f"[handover] {len(queued)} handovers queued; operators claim and reply ...", flush=True)

    chatting = threading.Event()

    def chatter() -> None:  # users keep writing while people hold their chats
        while not chatting.is_set():
            user = random.choice(users)
            user.post(user.form(random.choice(CHATTER)))
            time.sleep(0.5 / max(1, users_count // 10))

    talkers = [threading.Thread(target=chatter, daemon=True) for _ in range(2)]
    for talker in talkers:
        talker.start()

    claims: dict[int, int] = {}
    conflicts = 0
    lock = threading.Lock()

    def claim_all(index: int) -> None:
        nonlocal conflicts
        order = list(queued)
        random.Random(index).shuffle(order)
        for handover in order:
            status = operators[index].post(f"/api/v1/handovers/{handover['id']}/claim").status_code
            with lock:
                if status == 200:
                    assert handover["id"] not in claims, "two operators won one claim"
                    claims[handover["id"]] = index
                elif status == 409:
                    conflicts += 1
                else:
                    raise AssertionError(f"claim answered {status}")

    with ThreadPoolExecutor(operators_count) as pool:
        list(pool.map(claim_all, range(operators_count)))
    assert len(claims) == len(queued), "a chat was left unclaimed"

    numbers = conversation_numbers(stack)
    latencies: list[float] = []
    post_times: list[float] = []

    def answer(index: int) -> None:
        mine = [h for h in queued if claims[h["id"]] == index]
        for round_ in range(3):
            for handover in mine:
                text = f"Merhaba, ben {names[index]} ({handover['id']}.{round_})"
                started = time.time()
                response = operators[index].post(
                    f"/api/v1/conversations/{handover['conversation_id']}/messages",
                    json={"text": text},
                )
                assert response.status_code == 201, response.text
                posted = time.time() - started
                accepted = wait_for(
                    lambda to=numbers[handover["conversation_id"]], text=text: next(
                        (m for m in inbox(platforms, to) if m["text"] == text), None
                    ),
                    30,
                    "an operator's reply at the fake API",
                )
                with lock:
                    latencies.append(accepted["at"] - started)
                    post_times.append(posted)
                time.sleep(random.uniform(*TYPING_SECONDS))  # the person reads and types

    with ThreadPoolExecutor(operators_count) as pool:
        list(pool.map(answer, range(operators_count)))
    chatting.set()
    for talker in talkers:
        talker.join()
    time.sleep(1.0)  # the last chatter reaches the operators

    for handover in queued:
        index = claims[handover["id"]]
        closed = operators[index].post(
            f"/api/v1/handovers/{handover['id']}/close", json={"outcome": "resolved"}
        )
        assert closed.status_code == 200, closed.text
    resumed = 0
    feedback = texts.text("handover_feedback", "tr")
    for user in users:
        wait_for(  # the bot's question about the help comes first
            lambda user=user: any(feedback in r["text"] for r in user.replies(expect=0, timeout=1)),
            60,
            "the question about the help",
        )
        replies = user.say("ikamet iznimi nasıl uzatırım", timeout=60)
        resumed += any("e-ikamet" in r["text"] for r in replies)
    print(f"[handover] closed; {resumed}/{users_count} users answered by the bot again", flush=True)

    stream.stop.set()
    created = handover_times(stack)
    queue_updates = [stream.received[h] - created[h] for h in created if h in stream.received]
    silence = bot_replies_during_handover(stack)
    figures = {
        "users": users_count,
        "operators": operators_count,
        "operator_reply_to_send_call": percentiles(latencies),
        "operator_reply_api_call": percentiles(post_times),  # the part spent in the POST
        "queue_update_after_new_handover": percentiles(queue_updates),
        "handover_events_missed": len(created) - len(queue_updates),
        "claims_won": len(claims),
        "claim_conflicts_409": conflicts,
        "user_messages_during_handovers": silence["messages"],
        "bot_replies_during_handovers": silence["bot_replies"],
        "users_answered_by_bot_after_close": resumed,
        "targets": {
            "operator_reply_p95_ms": 300,
            "queue_update_ms": 1000,
            "bot_replies_during_handovers": 0,
        },
    }
    return figures


def inbox(platforms: FakePlatforms, to: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{platforms.url}/_fake/inbox", params={"to": to}, timeout=10)
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def _db(stack: Stack) -> sqlite3.Connection:
    return sqlite3.connect(stack.data_dir / "uyum.db")


def conversation_numbers(stack: Stack) -> dict[int, str]:
    """Each conversation's platform address (stored encrypted; the stack's keys open it)."""
    identities = Settings(data_dir=stack.data_dir, _env_file=None).identities()
    with _db(stack) as db:
        rows = db.execute("SELECT id, address FROM conversations").fetchall()
    return {cid: identities.open(address) for cid, address in rows}


def _epoch(stamp: str) -> float:
    moment = dt.datetime.fromisoformat(stamp)
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def handover_times(stack: Stack) -> dict[int, float]:
    with _db(stack) as db:
        return {i: _epoch(at) for i, at in db.execute("SELECT id, created_at FROM handovers")}


def bot_replies_during_handover(stack: Stack) -> dict[str, int]:
    """User messages received while their chat's handover was open, and bot replies to them."""
    with _db(stack) as db:
        messages = db.execute(
            "SELECT i.id, i.status, (SELECT count(*) FROM outbox_messages o"
            " WHERE o.inbound_id = i.id) FROM inbound_messages i JOIN handovers h"
            " ON h.conversation_id = i.conversation_id"
            " WHERE i.received_at > h.created_at AND i.received_at < h.closed_at"
            " AND i.platform_id NOT LIKE 'uyum:%'"
        ).fetchall()
    replies = sum(count for _, _, count in messages)
    not_for_operator = sum(1 for _, status, _ in messages if status != "operator")
    return {"messages": len(messages), "bot_replies": int(replies) + not_for_operator}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 users and 3 operators")
    args = parser.parse_args()
    users_count, operators_count = (12, 3) if args.quick else (40, 4)
    platforms = FakePlatforms()
    env = {**platforms.env(), "UYUM_OFFICE_HOURS": "mon-sun 00:00-23:59"}
    stack = start_stack(Path(tempfile.mkdtemp(prefix="uyum-bench-handover-")), env)
    try:
        figures = run(stack, platforms, users_count, operators_count)
    finally:
        stop_stack(stack)
        platforms.stop()
    reply, queue = (
        figures["operator_reply_to_send_call"],
        figures["queue_update_after_new_handover"],
    )
    print()
    print(f"{'figure':<52}{'measured':>14}{'target':>12}")
    print(f"{'operator reply -> channel send, p50 / p95 (ms)':<52}"
          f"{reply['p50_ms']:>7} / {reply['p95_ms']:<5}{'<= 300':>11}")  # fmt: skip
    print(f"{'new handover -> console event, p50 / max (ms)':<52}"
          f"{queue['p50_ms']:>7} / {queue['max_ms']:<5}{'<= 1000':>11}")  # fmt: skip
    print(f"{'bot replies to messages during handovers':<52}"
          f"{figures['bot_replies_during_handovers']:>14}{'0':>12}")  # fmt: skip
    print(
        f"{'  (user messages during handovers)':<52}{figures['user_messages_during_handovers']:>14}"
    )
    print(f"{'claims won / conflicts (409)':<52}"
          f"{figures['claims_won']:>7} / {figures['claim_conflicts_409']:<5}")  # fmt: skip
    print(f"{'users answered by the bot after close':<52}"
          f"{figures['users_answered_by_bot_after_close']:>7} / {figures['users']:<5}")  # fmt: skip
    write("handover", figures)


if __name__ == "__main__":
    main()
