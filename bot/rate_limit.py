"""Platform rate limits: sends spaced evenly at the limit, and never more than the limit
within any window as the platform sees it.

Platforms count messages per window at their end (Telegram: 30 per second over all chats).
Letting N sends go at once whenever a window frees (aiolimiter's bucket, or a sliding window
of start times, both used before) looks right at the sender but not at the platform: a burst
whose answers came slowly, then the next burst on time, put 39 messages into one second at
the fake Telegram (bench/broadcast_send.py). So:

- every send gets its own slot, one interval after the previous slot (1 / (rate x HEADROOM));
  a late wake-up does not push the later slots back, and slots missed while nothing was
  ready to go (the database was slow) are made up, at most CATCH_UP seconds' worth at once.
- a send may start only a full window after the send ``limit`` places before it *finished*.
  The platform received that one before it answered, and receives this one after it starts,
  so however the network or the event loop delays messages, no window at the platform holds
  more than ``limit``. It costs one round trip per window (milliseconds on a good link).

I found no maintained asyncio library that paces this way (aiolimiter with a capacity of 1
comes closest but loses the time of every late wake-up and knows nothing of answers).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextvars import ContextVar
from types import TracebackType

HEADROOM = 0.995  # the window rule below keeps the limit; this only rounds down
CATCH_UP = 0.25  # seconds of missed slots that may go at once (the window rule still holds)
_current: ContextVar[asyncio.Future[float]] = ContextVar("current_send")


class PacedLimiter:
    """At most ``rate`` sends per ``period`` at the receiving end, evenly spaced."""

    def __init__(self, rate: float, headroom: float = HEADROOM, period: float = 1.0) -> None:
        if rate <= 0 or not 0 < headroom <= 1 or period <= 0:
            raise ValueError("rate and period must be positive and headroom in (0, 1]")
        self._interval = 1.0 / (rate * headroom)
        self._period = period
        self._next = 0.0  # the next free slot (time.monotonic)
        self._finished: deque[asyncio.Future[float]] = deque(maxlen=max(1, int(rate * period)))
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        async with self._lock:  # first come, first served
            now = time.monotonic()
            slot = max(now - CATCH_UP, self._next or now)  # the very first send: no backlog
            if len(self._finished) == self._finished.maxlen:
                slot = max(slot, await self._finished[0] + self._period)
            self._next = slot + self._interval
            wait = slot - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            self._finished.append(done)
            _current.set(done)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        done = _current.get()
        if not done.done():
            done.set_result(time.monotonic())
