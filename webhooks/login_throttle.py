"""Slowing down password guessing: failed sign-ins per username in a sliding window."""

from __future__ import annotations

import collections
import time

from common.errors import TooManyRequestsError


class LoginThrottle:
    """At most ``attempts`` failed sign-ins per username in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 900.0) -> None:
        self._attempts, self._window = attempts, window
        self._failures: dict[str, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )

    def check(self, username: str) -> None:
        failures = self._failures[username.lower()]
        while failures and failures[0] < time.monotonic() - self._window:
            failures.popleft()
        if len(failures) >= self._attempts:
            raise TooManyRequestsError("too many failed sign-ins; wait a few minutes")

    def failed(self, username: str) -> None:
        self._failures[username.lower()].append(time.monotonic())

    def succeeded(self, username: str) -> None:
        self._failures.pop(username.lower(), None)
