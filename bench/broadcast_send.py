"""Sending one announcement to 10,000 subscribers at the platforms' speed (issue #7).

    .venv/bin/python -m bench.broadcast_send [--recipients 10000]   # about 10 minutes

Starts the real service (`uyum run`: the gateway hosts the broadcast runner and the outbox
sender) with Telegram and WhatsApp pointed at the local fake platform APIs, which time-stamp
every message they accept. The database gets the subscribers (60 % Telegram, 40 % WhatsApp
inside the 24-hour window, mixed languages) and, on the same topic, people who must get
nothing: 5 % who sent STOP and 3 % who unsubscribed. Then, each broadcast written by an
editor and approved by a supervisor through `uyum broadcast`, and sent now:

1. a clean run;
2. a crash: when about 40 % has gone, every process of the service is killed (SIGKILL) and
   `uyum run` is started again on the same data; the runner and sender resume.

Per channel: the achieved rate against the configured limit (target >= 95 %, measured while
sending, the restart's downtime left out), the busiest 1-second window at the platform
(target <= the limit), duplicates and sends to people who opted out (target 0), and the
announcements that were on the wire at the crash (not sent again by design; see
bot/sender.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.fake_platforms import FakePlatforms
from bench.results import write
from bench.stack import UYUM, Stack, add_operator, kill_stack, start_stack, stop_stack
from bot.sender import INTERRUPTED

LIMITS = {"telegram": 30.0, "whatsapp": 20.0}  # Telegram's own; a Twilio sender's setting
TELEGRAM_SHARE = 0.6
LANGUAGES = ["tr", "ar", "fa", "en", "ps"]
TOPIC = "informative-meetings"
PASSWORD = "bench-broadcast-password"  # noqa: S105 (a throw-away account)
TEXTS = {
    "tr": "Bilgilendirme toplantısı cuma 10:00'da ({run}).",
    "ar": "الاجتماع الإعلامي يوم الجمعة الساعة 10:00 ({run}).",
    "fa": "جلسه اطلاع‌رسانی جمعه ساعت 10:00 ({run}).",
    "en": "The information meeting is on Friday at 10:00 ({run}).",
}


def fill(path: Path, recipients: int) -> dict[str, set[str]]:
    """Subscribers, and people on the same topic who must get nothing; their addresses."""
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    opted_out, revoked = int(recipients * 0.05), int(recipients * 0.03)
    people: dict[str, set[str]] = {"reachable": set(), "opted_out": set(), "revoked": set()}
    conversations, subscriptions = [], []
    for i in range(recipients + opted_out + revoked):
        kind = (
            "reachable"
            if i < recipients
            else "opted_out"
            if i < recipients + opted_out
            else "revoked"
        )
        telegram = rng.random() < TELEGRAM_SHARE
        ref = f"{7_000_000 + i}" if telegram else f"whatsapp:+90533{i:07d}"
        people[kind].add(ref)
        last = now - dt.timedelta(hours=rng.choice([1, 5, 12, 20]))  # inside WhatsApp's window
        conversations.append((
            i + 1_000_000, "telegram" if telegram else "whatsapp", ref, rng.choice(LANGUAGES),
            "bot", "[]", last.isoformat(), now.isoformat() if kind == "opted_out" else None,
            now.isoformat(), now.isoformat(),
        ))  # fmt: skip
        subscriptions.append(
            (i + 1_000_000, TOPIC, now.isoformat(), now.isoformat() if kind == "revoked" else None)
        )
    with sqlite3.connect(path, timeout=30) as con:
        con.executemany(
            "INSERT INTO conversations (id, channel, user_ref, language, mode, choices,"
            " last_inbound_at, opted_out_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            conversations,
        )
        con.executemany(
            "INSERT INTO subscriptions (conversation_id, topic, consented_at, revoked_at)"
            " VALUES (?, ?, ?, ?)",
            subscriptions,
        )
    return people


def uyum(stack: Stack, *args: str) -> str:
    done = subprocess.run(
        [str(UYUM), *args, "--password-stdin"], input=f"{PASSWORD}\n", env=stack.env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"uyum {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def broadcast(stack: Stack, run: str) -> int:
    """Written by the editor, approved by the supervisor, sent now; returns its id."""
    texts = [f"--text={lang}={text.format(run=run)}" for lang, text in TEXTS.items()]
    out = uyum(stack, "broadcast", "create", "--by", "editor", "--title", run, "--topic", TOPIC,
               *texts)  # fmt: skip
    broadcast_id = int(out.split()[1])
    uyum(stack, "broadcast", "approve", str(broadcast_id), "--by", "chief")
    uyum(stack, "broadcast", "send", str(broadcast_id), "--by", "chief", "--no-watch")
    return broadcast_id


def state(stack: Stack, broadcast_id: int) -> str:
    with sqlite3.connect(stack.data_dir / "uyum.db", timeout=30) as con:
        return str(
            con.execute("SELECT state FROM broadcasts WHERE id = ?", (broadcast_id,)).fetchone()[0]
        )


def follow(
    platforms: FakePlatforms, stack: Stack, broadcast_id: int, run: str, stop_at: int | None = None
) -> list[dict[str, Any]]:
    """What the platforms accepted for ``run`` so far, once the broadcast is sent (or once
    ``stop_at`` messages arrived)."""
    got: list[dict[str, Any]] = []
    seen, last_print, finished = 0, time.monotonic(), False
    while True:
        batch = platforms.accepted(seen)
        seen += len(batch)
        got += [m for m in batch if run in str(m.get("text") or "")]
        if finished or (stop_at is not None and len(got) >= stop_at):
            return got
        finished = state(stack, broadcast_id) in ("sent", "cancelled")  # then one more look
        if time.monotonic() - last_print > 10:
            print(f"  [{run}] {len(got)} delivered", flush=True)
            last_print = time.monotonic()
        time.sleep(0.5)


def busiest_window(stamps: list[float], width: float = 1.0) -> int:
    stamps, best, start = sorted(stamps), 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


def rate(stamps: list[float]) -> float:
    stamps = sorted(stamps)
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


def channel_figures(
    messages: list[dict[str, Any]], segments: list[tuple[float, float]]
) -> dict[str, Any]:
    """Per channel: rate while sending (per segment between restarts), busiest 1-s window."""
    figures: dict[str, Any] = {}
    for platform, channel in (("telegram", "telegram"), ("twilio", "whatsapp")):
        stamps = [m["at"] for m in messages if m["platform"] == platform]
        parts = [[s for s in stamps if lo <= s < hi] for lo, hi in segments]
        sending = sum(max(p) - min(p) for p in parts if len(p) > 1)
        achieved = (sum(len(p) for p in parts) - len(parts)) / sending if sending else 0.0
        figures[channel] = {
            "messages": len(stamps),
            "limit_per_s": LIMITS[channel],
            "achieved_per_s": round(achieved, 2),
            "share_of_limit": round(achieved / LIMITS[channel], 3),
            "busiest_1s_window": max(busiest_window(p) for p in parts if p),
            "per_segment_per_s": [round(rate(p), 2) for p in parts],
        }
    return figures


def outcome(
    messages: list[dict[str, Any]], people: dict[str, set[str]], interrupted: int
) -> dict[str, int]:
    counts = Counter(m["to"].removeprefix("whatsapp:") for m in messages)
    normal = {kind: {r.removeprefix("whatsapp:") for r in refs} for kind, refs in people.items()}
    return {
        "delivered": len(counts),
        "duplicates": sum(n - 1 for n in counts.values()),
        "to_opted_out": sum(counts[r] for r in normal["opted_out"]),
        "to_unsubscribed": sum(counts[r] for r in normal["revoked"]),
        # on the wire at the kill: recorded as failed, not sent again (some did arrive)
        "interrupted_not_resent": interrupted,
        "missing": len(normal["reachable"] - set(counts)),  # at most the interrupted ones
    }


def duplicate_times(messages: list[dict[str, Any]], killed: float) -> list[list[float]]:
    """For each address that got the announcement twice: when, relative to the kill (s)."""
    times: dict[str, list[float]] = {}
    for m in messages:
        times.setdefault(m["to"], []).append(round(m["at"] - killed, 3))
    return [t for t in times.values() if len(t) > 1][:20]


def statuses(stack: Stack, broadcast_id: int) -> dict[str, int]:
    with sqlite3.connect(stack.data_dir / "uyum.db", timeout=30) as con:
        rows = con.execute(
            "SELECT o.status, count(*) FROM broadcast_recipients r JOIN outbox_messages o"
            " ON o.id = r.outbox_id WHERE r.broadcast_id = ? GROUP BY o.status",
            (broadcast_id,),
        ).fetchall()
    return {str(status): int(count) for status, count in rows}


def interrupted_rows(stack: Stack, broadcast_id: int) -> int:
    with sqlite3.connect(stack.data_dir / "uyum.db") as con:
        row = con.execute(
            "SELECT count(*) FROM broadcast_recipients r JOIN outbox_messages o"
            " ON o.id = r.outbox_id WHERE r.broadcast_id = ? AND o.last_error = ?",
            (broadcast_id, INTERRUPTED),
        ).fetchone()
    return int(row[0])


def print_run(name: str, figures: dict[str, Any]) -> None:
    print(f"\n{name}")
    print(f"  {'channel':<10}{'msgs':>7}{'limit/s':>9}{'achieved/s':>12}{'share':>8}{'max 1 s':>9}")
    for channel in ("telegram", "whatsapp"):
        c = figures["channels"][channel]
        print(f"  {channel:<10}{c['messages']:>7}{c['limit_per_s']:>9.0f}{c['achieved_per_s']:>12}"
              f"{c['share_of_limit']:>8.1%}{c['busiest_1s_window']:>9}")  # fmt: skip
    print("  " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures["outcome"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    args = parser.parse_args()
    platforms = FakePlatforms()
    tmp = Path(tempfile.mkdtemp(prefix="uyum-bench-broadcast-"))
    env = {**platforms.env(), "TWILIO_MAX_PER_SECOND": str(LIMITS["whatsapp"]),
           "TELEGRAM_MAX_PER_SECOND": str(LIMITS["telegram"])}  # fmt: skip
    results: dict[str, Any] = {"recipients": args.recipients, "limits_per_s": LIMITS}
    stack = start_stack(tmp, env)
    try:
        add_operator(stack, "editor", PASSWORD, role="editor")
        add_operator(stack, "chief", PASSWORD, role="supervisor")
        people = fill(stack.data_dir / "uyum.db", args.recipients)
        print(f"{args.recipients} subscribers, {len(people['opted_out'])} opted out, "
              f"{len(people['revoked'])} unsubscribed", flush=True)  # fmt: skip

        started = time.time()
        clean_id = broadcast(stack, "run-clean")
        clean = follow(platforms, stack, clean_id, "run-clean")
        results["clean"] = {
            "channels": channel_figures(clean, [(started, time.time())]),
            "outcome": outcome(clean, people, interrupted_rows(stack, clean_id)),
        }
        print_run("clean run", results["clean"])

        started = time.time()
        crash_id = broadcast(stack, "run-crash")
        before = follow(platforms, stack, crash_id, "run-crash", stop_at=args.recipients * 4 // 10)
        kill_stack(stack)
        at_kill = statuses(stack, crash_id)
        killed = time.time()
        print(f"  killed every process after {len(before)} messages; starting again", flush=True)
        stack = start_stack(tmp, env)
        restarted = time.time()
        everything = follow(platforms, stack, crash_id, "run-crash")
        results["crash"] = {
            "channels": channel_figures(everything, [(started, killed), (killed, time.time())]),
            "outcome": outcome(everything, people, interrupted_rows(stack, crash_id)),
            "sent_before_kill": len(before),
            "sent_after_restart": len(everything) - len(before),
            "restart_seconds": round(restarted - killed, 1),
            "outbox_at_kill": at_kill,
            "duplicates_seconds_after_kill": duplicate_times(everything, killed),
        }
        print_run("kill and restart in the middle", results["crash"])
    finally:
        stop_stack(stack)
        platforms.stop()
    write("broadcast_send", results)


if __name__ == "__main__":
    main()
