"""Platform rate limits: sends spaced evenly, just under the limit.

Platforms count messages per window at their end (Telegram: 30 per second over all chats).
Letting N sends go at once whenever a window frees (aiolimiter's bucket, or a sliding window
of start times, both used before) looks right at the sender but not at the platform: a burst
whose answers came slowly, then the next burst on time, put 39 messages into one second at
the fake Telegram (bench/broadcast_send.py). So every send gets its own slot, one interval
after the previous slot: a late wake-up does not push the later slots back, and after an
idle spell the schedule restarts from now, with no burst to catch up. The interval is
1 / (rate x HEADROOM); the 2 % headroom absorbs the jitter between our clock and the
platform's. I found no maintained asyncio library that paces this way (aiolimiter with a
capacity of 1 comes closest but loses the time of every late wake-up).
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType

HEADROOM = 0.98


class PacedLimiter:
    """At most ``rate`` sends per second, one every ``1 / (rate x headroom)`` seconds."""

    def __init__(self, rate: float, headroom: float = HEADROOM) -> None:
        if rate <= 0 or not 0 < headroom <= 1:
            raise ValueError("rate must be positive and headroom in (0, 1]")
        self._interval = 1.0 / (rate * headroom)
        self._next = 0.0  # the next free slot (time.monotonic)
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        async with self._lock:  # first come, first served
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
            if slot > now:
                await asyncio.sleep(slot - now)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
