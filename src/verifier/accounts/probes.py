"""Allowances of look-ups by a whole ID number that a refusal would otherwise answer without limit or trace.

The pages show ID numbers masked 6+4, which hides only the birth date: any answer that differs with a whole number
typed (a person in another household, a group on the county's roster) tells, over a few thousand tries, the number
behind a mask. Searches are counted for that reason (cases/id_search.py); these allowances count the look-ups
writes make on the way (a check's members, an application's group): per user and kind, in the login limiter's table
(`login_attempt`, a bucket kept as a SHA-256), in its sliding window, whether the write is then made or refused.
They count distinct numbers: each look-up's row keeps a keyed digest of the number (`Allowance.digest`, of its
blind index under the bucket), and a number counted in the window costs nothing again, so that a form sent again
as it was (a photo not uploaded, a field mistyped) spends nothing more; a prober must still try new numbers.
What would go past the allowance is refused whole (429, Retry-After) before anything is compared, and counts
nothing.

A check's allowance costs it no round trip of its own on PostgreSQL (`checks/recording.py`): the bucket's times in
the window are read in the check's batch of reads (`window_read`), and its new numbers' rows written (and the old pruned) by
prepared writes deferred to the transaction's next round trip, its COMMIT's (`take`); on SQLite the same statements
run at once. Its refusals keep their count as any other (`keep`)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from ..domain.errors import DomainError
from ..store.db import keep_after_rollback
from ..store.reader import Prepared
from ..store.writer import PreparedWrite, Write, run_batch
from .models import LoginAttempt

_attempt: Table = LoginAttempt.__table__  # type: ignore[assignment]
# A bucket's look-ups in the window (time and digest), oldest first: a range of the index on (bucket, at).
WINDOW = Prepared(select(_attempt.c.at, _attempt.c.digest).where(_attempt.c.bucket == bindparam("bucket"),
                                                                 _attempt.c.at > bindparam("since"))
                  .order_by(_attempt.c.at))
_PRUNE = PreparedWrite(delete(_attempt).where(_attempt.c.bucket == bindparam("bucket"),  # type: ignore[arg-type]
                                              _attempt.c.at <= bindparam("before")))
_STAMP = PreparedWrite(insert(_attempt).values(bucket=bindparam("bucket"), at=bindparam("at"),
                                               digest=bindparam("digest")))
Stamp = dict[str, Any]  # a look-up's row: its bucket, time and digest


class TooManyLookups(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class Limit:
    """How many look-ups of a kind a user makes in the login limiter's sliding window (settings
    `VERIFIER_ID_LOOKUPS_PER_WINDOW`, 60 by default, and `VERIFIER_LOGIN_WINDOW_MINUTES`)."""

    window: timedelta
    per_window: int

    @classmethod
    def of(cls, settings: Any) -> Limit:
        return cls(timedelta(minutes=settings.login_window_minutes), settings.id_lookups_per_window)


@dataclass(frozen=True)
class Allowance:
    kind: str  # the bucket's name, with the user's id
    refusal: str  # the 429's words: {minutes} to wait, {window} minutes, {limit}

    def _bucket(self, user_id: str) -> str:
        return hashlib.sha256(f"{self.kind}\0{user_id}".encode()).hexdigest()

    def digest(self, user_id: str, key: str) -> str:
        """The digest a look-up of the number keyed `key` (its blind index: never the number) is kept under, in
        `user_id`'s bucket (so that rows tie to no person's blind index, nor one bucket's to another's)."""
        return hashlib.sha256(f"{self._bucket(user_id)}\0{key}".encode()).hexdigest()

    def count(self, session: Session, user_id: str, keys: Iterable[str], now: datetime,
              limit: Limit) -> list[Stamp]:
        """Look-ups of `user_id` of the numbers keyed `keys` (blind indexes), written in `session`: those not counted
        in the window already; TooManyLookups (nothing counted) when they would go past the allowance in the window.
        Returns the rows written, for `keep` should the write then be refused."""
        keys = set(keys)
        if not keys:
            return []
        bucket = self._bucket(user_id)
        rows = self._window_rows(session, bucket, now, limit)
        stamps = self._stamps(user_id, keys, rows, now, limit)
        self.write(session, stamps, now, limit.window)
        return stamps

    def window_read(self, user_id: str, now: datetime, limit: Limit) -> tuple[Prepared, dict[str, Any]]:
        """The read of `user_id`'s look-ups in the window, for a batch of other reads (`take` is given its rows)."""
        return WINDOW, {"bucket": self._bucket(user_id), "since": now - limit.window}

    def take(self, session: Session, user_id: str, keys: Iterable[str], rows: Iterable[Any], now: datetime,
             limit: Limit) -> list[Stamp]:
        """`count`, the bucket's `rows` in the window read already (`window_read`, in this transaction): refused
        (TooManyLookups, nothing counted) past the allowance; else the numbers not counted in the window written by
        prepared writes, on PostgreSQL deferred to the transaction's next round trip (store/writer.py, `later`), on
        SQLite at once. Nothing is written for none. Returns the rows written, for `keep`."""
        stamps = self._stamps(user_id, set(keys), list(rows), now, limit)
        if stamps:
            writes: list[Write] = [(_PRUNE, {"bucket": stamps[0]["bucket"], "before": now - limit.window}),
                                   (_STAMP, stamps)]
            run_batch(session, writes, later=True)
        return stamps

    def _stamps(self, user_id: str, keys: set[str], rows: list[Any], now: datetime, limit: Limit) -> list[Stamp]:
        """The rows to write for look-ups of `keys`, `rows` (time, digest) the bucket's in the window: a number
        counted there already costs nothing again, a row without a digest (one written before digests) counts
        alone. TooManyLookups when the new ones would go past the allowance."""
        bucket = self._bucket(user_id)
        last = self._counted(rows)
        new = sorted({d for d in (self.digest(user_id, k) for k in keys) if d not in last})
        if not new:
            return []
        self._refuse_past(sorted(last.values()), len(new), now, limit)
        return [{"bucket": bucket, "at": now, "digest": d} for d in new]

    def share(self, session: Session, user_id: str, keys: Iterable[str], now: datetime,
              limit: Limit) -> tuple[set[str], int]:
        """For answers withheld one by one rather than refused whole (a refused bureau file's rows,
        `referrals/roster_probes.py`): of `keys` (blind indexes, in their order), those that may be answered, and how
        many were counted now. The numbers counted in the window already cost nothing; the new ones are counted, in
        their order, while the allowance lasts (written in `session`, as `count` writes them); the others are
        withheld and count nothing. Never TooManyLookups."""
        bucket = self._bucket(user_id)
        rows = self._window_rows(session, bucket, now, limit)
        last = self._counted(rows)
        room = max(0, limit.per_window - len(last))
        answered: set[str] = set()
        stamps: list[Stamp] = []
        for key in dict.fromkeys(keys):
            digest = self.digest(user_id, key)
            if digest in last:
                answered.add(key)
            elif room > 0:
                stamps.append({"bucket": bucket, "at": now, "digest": digest})
                answered.add(key)
                room -= 1
        self.write(session, stamps, now, limit.window)
        return answered, len(stamps)

    @staticmethod
    def _window_rows(session: Session, bucket: str, now: datetime, limit: Limit) -> list[Any]:
        return list(session.execute(select(LoginAttempt.at, LoginAttempt.digest)
                                    .where(LoginAttempt.bucket == bucket, LoginAttempt.at > now - limit.window)
                                    .order_by(LoginAttempt.at)))

    @staticmethod
    def _counted(rows: list[Any]) -> dict[Any, datetime]:
        """Each number's latest look-up in the window, `rows` (time, digest) the bucket's there: a row without a
        digest (one written before digests) counts alone."""
        last: dict[Any, datetime] = {}
        for i, (at, digest) in enumerate(rows):
            last[digest if digest is not None else i] = max(at, last.get(digest if digest is not None else i, at))
        return last

    def _refuse_past(self, times: list[datetime], n: int, now: datetime, limit: Limit) -> None:
        """TooManyLookups when `n` more numbers would go past the allowance, `times` (oldest first) those of the
        numbers in the window."""
        window = limit.window
        over = len(times) + n - limit.per_window
        if over > 0:
            # the time the oldest numbers fall out of the window, leaving room for these
            frees_at = times[min(over, len(times)) - 1] + window if times else now + window
            wait = max(1, math.ceil((frees_at - now).total_seconds()))
            raise TooManyLookups(self.refusal.format(minutes=max(1, -(-wait // 60)),
                                                     window=max(1, int(window.total_seconds() // 60)),
                                                     limit=limit.per_window), wait)

    @staticmethod
    def write(session: Session, stamps: list[Stamp], now: datetime, window: timedelta) -> None:
        if not stamps:
            return
        session.execute(delete(LoginAttempt).where(LoginAttempt.bucket == stamps[0]["bucket"],
                                                   LoginAttempt.at <= now - window))
        session.execute(insert(LoginAttempt), stamps)

    def keep(self, exc: BaseException, stamps: list[Stamp], now: datetime, limit: Limit) -> BaseException:
        """`exc` (the write's refusal), carrying the count (`stamps`) to write again once its transaction has rolled
        back."""
        if stamps:
            keep_after_rollback(exc, lambda session: self.write(session, stamps, now, limit.window))
        return exc
