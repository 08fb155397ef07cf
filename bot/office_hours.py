"""When the office's operators work, in the office's own time zone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<open>\d{1,2}:\d{2})-(?P<close>\d{1,2}:\d{2})$"
)


@dataclass(frozen=True)
class OfficeHours:
    """Opening hours such as ``mon-fri 09:00-17:30`` in a time zone such as Europe/Istanbul."""

    days: frozenset[int]  # 0 = Monday
    opens: dt.time
    closes: dt.time
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, zone: str) -> OfficeHours:
        """Raises ``ValueError`` with the reason when ``spec`` or ``zone`` is not valid."""
        match = _SPEC.match(spec.strip().lower())
        if not match:
            raise ValueError(f"office hours must look like 'mon-fri 09:00-17:30', not {spec!r}")
        first, last = match["first"], match["last"] or match["first"]
        if first not in DAYS or last not in DAYS:
            raise ValueError(f"unknown day in {spec!r}; use {', '.join(DAYS)}")
        start, end = DAYS.index(first), DAYS.index(last)
        days = {(start + i) % 7 for i in range((end - start) % 7 + 1)}
        opens, closes = (
            dt.time.fromisoformat(match["open"].zfill(5)),
            dt.time.fromisoformat(match["close"].zfill(5)),
        )
        if closes <= opens:
            raise ValueError(f"the office must close after it opens in {spec!r}")
        try:
            tz = ZoneInfo(zone)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unknown time zone {zone!r}") from exc
        return cls(frozenset(days), opens, closes, tz)

    def is_open(self, now: dt.datetime) -> bool:
        local = now.astimezone(self.zone)
        return local.weekday() in self.days and self.opens <= local.time() < self.closes

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """The next moment the office opens (``now`` itself when it is open)."""
        if self.is_open(now):
            return now
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            opening = dt.datetime.combine(day, self.opens, self.zone)
            if day.weekday() in self.days and opening > local:
                return opening
        raise AssertionError("an office with opening days opens within a week")

    def describe(self, day_names: list[str]) -> str:
        """The hours for a message, e.g. ``Monday–Friday 09:00–17:30 (UTC+03)``."""
        days = sorted(self.days)
        contiguous = days == list(range(days[0], days[0] + len(days)))
        if len(days) == 1:
            span = day_names[days[0]]
        elif contiguous:
            span = f"{day_names[days[0]]}–{day_names[days[-1]]}"
        else:
            span = ", ".join(day_names[d] for d in days)
        offset = dt.datetime.now(self.zone).strftime("%z")
        return f"{span} {self.opens:%H:%M}–{self.closes:%H:%M} (UTC{offset[:3]})"
