"""The platform rate limit holds in every one-second window, and lets the rate through."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.rate_limit import CATCH_UP, HEADROOM, PacedLimiter


async def starts(limiter: PacedLimiter, count: int, pause_after: int | None = None) -> list[float]:
    began = time.monotonic()
    times: list[float] = []
    for i in range(count):
        if i == pause_after:
            await asyncio.sleep(1.5)  # an idle spell: no burst to catch up afterwards

        async with limiter:
            times.append(time.monotonic() - began)
    return times


def most_in_a_window(times: list[float], period: float = 1.0) -> int:
    return max(sum(1 for u in times if t <= u < t + period) for t in times)


async def test_never_more_than_the_rate_in_any_second_and_no_bursts() -> None:
    times = await starts(PacedLimiter(20), 50)
    assert most_in_a_window(times) <= 20
    interval = 1 / (20 * HEADROOM)
    assert times[4] - times[0] >= 4 * interval * 0.99  # evenly spaced: no burst at the start
    assert times[-1] < 49 * interval + 1.0  # and the rate gets through


async def test_waiting_concurrently_and_after_an_idle_spell() -> None:
    limiter = PacedLimiter(10)
    concurrent: list[float] = []

    async def one() -> None:
        async with limiter:
            concurrent.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(12)))
    assert most_in_a_window(sorted(concurrent)) <= 10
    times = await starts(limiter, 12, pause_after=6)
    assert most_in_a_window(times) <= 10
    # after the pause, at most CATCH_UP seconds of missed slots go at once, then the pace
    assert times[-1] - times[6] >= (5 - CATCH_UP * 10) * 0.1 * 0.99


async def test_a_slow_answer_holds_back_the_send_a_window_later() -> None:
    """The platform got the first send before it answered: the fourth (rate 3) may start
    only a full second after that answer, however the sends were spaced."""
    limiter = PacedLimiter(3, headroom=1.0)
    starts: list[float] = []

    async def send(answer_after: float) -> None:
        async with limiter:
            starts.append(time.monotonic())
            await asyncio.sleep(answer_after)

    began = time.monotonic()
    await asyncio.gather(send(0.6), send(0.0), send(0.0), send(0.0))
    assert starts[3] - began >= 1.6  # the first answered at 0.6 s
    assert starts[1] - starts[0] >= 0.33 - 0.01  # evenly spaced meanwhile


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PacedLimiter(0)
