"""A limit on the ID numbers a field officer's checks name that their households do not already hold.

A check naming a person recorded in another household is refused (此人已登记在其他家庭; another county's, neutrally),
and a refused check writes nothing. The pages show ID numbers masked 6+4, which hides only the birth date, so without
a limit the officer sent to one household could post checks naming every candidate number of a masked one (made to
fail on purpose) and read which was "in another household": the whole number, as a search by it would tell
(cases/id_search.py counts those). Each number a check names that is not a member of the case's household is
counted per officer in the login limiter's table (`login_attempt`, a bucket of its own kept as a SHA-256), in the
same sliding window, whether the check is recorded or refused; a check that would go past `PER_WINDOW` is refused
whole (429) before anything is compared, and counts nothing. The household's own members count nothing: a first
check names the household's other members (a referral brings its applicant only), a few a visit.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..accounts.models import LoginAttempt
from ..domain.errors import DomainError
from ..store.db import keep_after_rollback

PER_WINDOW = 60


class TooManyNewMembers(DomainError):
    status = 429

    def __init__(self, retry_after: int, window_minutes: int) -> None:
        super().__init__(f"核查中登记本户原有成员以外的身份证号过于频繁，请 {max(1, retry_after // 60)} 分钟后再试"
                         f"（每位核查员 {window_minutes} 分钟内最多 {PER_WINDOW} 个）")
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def _bucket(user_id: str) -> str:
    return hashlib.sha256(f"check_member\0{user_id}".encode()).hexdigest()


def count(session: Session, user_id: str, new: Collection[str], now: datetime, window: timedelta,
          limit: int = PER_WINDOW) -> list[datetime]:
    """Count `new` (the blind indexes of the numbers new to the household) for `user_id`: TooManyNewMembers (nothing
    counted) when they would go past `limit` in the window. Returns the times to write: by `keep`, once the check's
    transaction has committed or rolled back."""
    if not new:
        return []
    bucket = _bucket(user_id)
    times = list(session.scalars(select(LoginAttempt.at).where(LoginAttempt.bucket == bucket,
                                                               LoginAttempt.at > now - window)
                                 .order_by(LoginAttempt.at)))
    if len(times) + len(new) > limit:
        # the slot freeing enough room for this check: the oldest times falling out of the window
        frees_at = times[min(len(times) - 1, len(times) + len(new) - limit - 1)] + window if times else now
        raise TooManyNewMembers(max(1, math.ceil((frees_at - now).total_seconds())),
                                max(1, int(window.total_seconds() // 60)))
    return [now] * len(new)


def write(session: Session, user_id: str, times: list[datetime], now: datetime, window: timedelta) -> None:
    """The counted times, in `session` (the check's own transaction, or the one kept after its refusal)."""
    if not times:
        return
    bucket = _bucket(user_id)
    session.execute(delete(LoginAttempt).where(LoginAttempt.bucket == bucket, LoginAttempt.at <= now - window))
    session.execute(insert(LoginAttempt), [{"bucket": bucket, "at": t} for t in times])


def keep(exc: BaseException, user_id: str, times: list[datetime], now: datetime, window: timedelta) -> BaseException:
    """`exc` (the check's refusal), carrying the count to write once its transaction has rolled back."""
    if times:
        keep_after_rollback(exc, lambda session: write(session, user_id, times, now, window))
    return exc
