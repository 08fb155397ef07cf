"""The platform rate limit holds in every one-second window, and lets the rate through."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.rate_limit import SlidingWindowLimiter


async def starts(limiter: SlidingWindowLimiter, count: int) -> list[float]:
    began = time.monotonic()
    times: list[float] = []

    async def one() -> None:
        async with limiter:
            times.append(time.monotonic() - began)

    await asyncio.gather(*(one() for _ in range(count)))
    return sorted(times)


def most_in_a_window(times: list[float], period: float = 1.0) -> int:
    return max(sum(1 for u in times if t <= u < t + period) for t in times)


async def test_never_more_than_the_rate_in_any_second() -> None:
    times = await starts(SlidingWindowLimiter(20), 50)
    assert most_in_a_window(times) <= 20
    assert times[-1] >= 2.0  # 50 sends at 20/s need two full windows of waiting
    assert times[19] < 0.5  # the first 20 go at once


async def test_a_fractional_rate_rounds_down() -> None:
    times = await starts(SlidingWindowLimiter(2.5), 4)
    assert most_in_a_window(times) <= 2  # 2 per second at most, never 3
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0)
