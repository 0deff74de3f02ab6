"""The scheme's calendar: its days are Asia/Shanghai's (a visit day, a notice's period, a report's month).

Defined once here, where the pure rules can read it; `clock.SCHEME_TZ` is this."""

from __future__ import annotations

from zoneinfo import ZoneInfo

SCHEME_TZ = ZoneInfo("Asia/Shanghai")
