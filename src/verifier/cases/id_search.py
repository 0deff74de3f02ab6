"""A limit on searches by a whole ID number, per user.

The list shows ID numbers masked 6+4, which hides only the birth date. A search by a whole number answers whether
it belongs to a household the caller may see; without a limit, trying every birth date (some 36,000 in a
century) would recover a masked number. Each such search is counted in the login limiter's table (`login_attempt`,
a bucket per user kept as a SHA-256), in the same sliding window; past `PER_WINDOW` the search is refused (429) until
the oldest falls out of the window. Searches by name, case number or the last four characters are not counted:
they reveal nothing the list does not show.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from ..accounts.auth import Principal
from ..accounts.models import LoginAttempt
from ..domain.errors import DomainError
from ..store.db import Database
from .listing import is_whole_id_number

PER_WINDOW = 30


class TooManyIdSearches(DomainError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"按身份证号查找过于频繁，请 {max(1, retry_after // 60)} 分钟后再试")
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def _bucket(principal: Principal) -> str:
    return hashlib.sha256(f"id_search\0{principal.id}".encode()).hexdigest()


def count_search(db: Database, principal: Principal, q: str | None, now: datetime, window: timedelta,
                 limit: int = PER_WINDOW) -> None:
    """Count a search by `q` when it is a whole ID number; TooManyIdSearches past the limit (nothing counted)."""
    if not is_whole_id_number(q):
        return
    bucket = _bucket(principal)
    with db.begin() as session:
        session.execute(delete(LoginAttempt).where(LoginAttempt.bucket == bucket, LoginAttempt.at <= now - window))
        times = list(session.scalars(select(LoginAttempt.at).where(LoginAttempt.bucket == bucket)
                                     .order_by(LoginAttempt.at)))
        if len(times) >= limit:
            frees_at = times[len(times) - limit] + window
            raise TooManyIdSearches(max(1, math.ceil((frees_at - now).total_seconds())))
        session.add(LoginAttempt(bucket=bucket, at=now))


def searches_in_window(db: Database, principal: Principal) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).where(LoginAttempt.bucket == _bucket(principal))) or 0)
