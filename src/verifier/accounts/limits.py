"""The login limiter: failed attempts per account and, separately, per client address, in a sliding window.

Its state lives in the database (`login_attempt`), not in memory, so every server process shares one count and a
restart does not hand an attacker a fresh allowance. Only logins pay for it; other requests never touch it.

An attempt is written (and committed) before its password is checked, then counted: of any number of attempts
racing each other, only as many as the limit see a count within it, so parallel guesses get no more tries than
sequential ones. A successful attempt removes its rows again; what stays is the failures. Buckets are keyed by
SHA-256, so the table holds no typed usernames (people type passwords into the username field) or addresses.
Unknown usernames are counted exactly like known ones: the answers never tell whether an account exists.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..domain.errors import DomainError
from ..store.db import Database
from .models import LoginAttempt


class TooManyAttempts(DomainError):
    """Too many failed logins for this account or from this address (HTTP 429, with Retry-After)."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"登录失败次数过多，请 {-(-retry_after // 60)} 分钟后再试")
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class LoginLimits:
    per_account: int = 5
    per_client: int = 30
    window: timedelta = timedelta(minutes=15)


def _bucket(kind: str, key: str) -> str:
    return hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()


def _wait(times: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until fewer than `limit` of `times` (ascending, within the window) remain in it; 0 if already so."""
    if len(times) < limit:
        return 0
    frees_at = times[len(times) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


class Limiter:
    def __init__(self, db: Database, limits: LoginLimits) -> None:
        self.db, self.limits = db, limits

    def _limited(self, keys: Iterable[tuple[str, int]], now: datetime, *, extra: int = 0) -> int:
        cutoff = now - self.limits.window
        wait = 0
        with self.db.read() as session:
            for bucket, limit in keys:
                times = list(session.scalars(select(LoginAttempt.at).where(
                    LoginAttempt.bucket == bucket, LoginAttempt.at > cutoff).order_by(LoginAttempt.at)))
                wait = max(wait, _wait(times, limit + extra, self.limits.window, now))
        return wait

    def _keys(self, username: str, client: str) -> list[tuple[str, int]]:
        return [(_bucket("account", username.strip().lower()), self.limits.per_account),
                (_bucket("client", client), self.limits.per_client)]

    def begin(self, username: str, client: str, now: datetime) -> list[int]:
        """Record an attempt, or refuse it with TooManyAttempts; returns the rows to drop if it succeeds."""
        keys = self._keys(username, client)
        wait = self._limited(keys, now)  # already over: refuse without writing anything
        if wait:
            raise TooManyAttempts(wait)
        with self.db.begin() as session:
            session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - self.limits.window))
            rows = [LoginAttempt(bucket=bucket, at=now) for bucket, _ in keys]
            session.add_all(rows)
            session.flush()
            ids = [r.id for r in rows]
        wait = self._limited(keys, now, extra=1)  # counted after our commit: racing attempts see each other
        if wait:
            self.forget(ids)
            raise TooManyAttempts(wait)
        return ids

    def forget(self, ids: list[int]) -> None:
        with self.db.begin() as session:
            session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(ids)))

    def succeeded(self, session: Session, username: str, ids: list[int]) -> None:
        """A successful login: its own attempt is no failure, and the account's earlier failures are cleared."""
        account = _bucket("account", username.strip().lower())
        session.execute(delete(LoginAttempt).where(
            (LoginAttempt.id.in_(ids)) | (LoginAttempt.bucket == account)))


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[str]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the nearest address in
    X-Forwarded-For that is not a trusted proxy (what a client writes there itself is further left, and ignored)."""
    host = peer or "unknown"
    networks = [ipaddress.ip_network(n, strict=False) for n in trusted]
    if not networks or not _is_trusted(host, networks):
        return host
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else host


def _is_trusted(address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)
