"""A strict platform rate limit: never more than N sends in any window of the period.

aiolimiter (used before) is a leaky bucket: it lets a full bucket go at once and then keeps
refilling, so a 30/s limit allowed 59 sends within one second. Platforms count per window
(Telegram: 30 messages per second), so this keeps the start times of the last N sends and
waits until the oldest leaves the window. I found no maintained asyncio library with this
exact guarantee and no extra weight; it is small enough to read whole.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from types import TracebackType


class SlidingWindowLimiter:
    """At most ``rate`` acquisitions per second, counted over any sliding window."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        # a window of at least one second, holding a whole number of sends
        self._period = max(1.0, 1.0 / rate)
        self._max = max(1, int(rate * self._period))
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        async with self._lock:  # first come, first served
            while True:
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= self._period:
                    self._starts.popleft()
                if len(self._starts) < self._max:
                    self._starts.append(now)
                    return
                await asyncio.sleep(self._period - (now - self._starts[0]))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
