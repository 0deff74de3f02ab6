"""The one clock. Rules take dates as arguments; services ask a Clock, which tests replace."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from .domain.scheme_calendar import SCHEME_TZ as SCHEME_TZ  # the scheme's days (defined once, in the domain)


class Clock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        """Today in the scheme's local time zone."""
        return self.now().astimezone(SCHEME_TZ).date()


class FixedClock(Clock):
    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock's time needs a time zone")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)
