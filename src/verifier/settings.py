"""Settings from the environment: `VERIFIER_HOME` (default ./var) and `VERIFIER_DATABASE_URL`."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path


def normalise_database_url(url: str) -> str:
    """Map the plain forms people type to the drivers we ship (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def parse_trusted_proxies(text: str) -> tuple[str, ...]:
    """`VERIFIER_TRUSTED_PROXIES`: addresses or networks (`10.0.0.1`, `10.0.0.0/8`), separated by commas or spaces."""
    proxies = []
    for item in text.replace(",", " ").split():
        try:
            proxies.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(f"VERIFIER_TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
    return tuple(proxies)


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    log_name: str = "verifier.example/relief-audit"
    # Login limiter: failed attempts allowed in a sliding window, per account and (separately) per client address.
    login_failures_per_account: int = 5
    login_failures_per_client: int = 30
    login_window_minutes: int = 15
    # Proxies whose X-Forwarded-For is believed (addresses or networks); empty: nobody's.
    trusted_proxies: tuple[str, ...] = ()
    max_upload_bytes: int = 20 * 1024 * 1024

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        home = Path(env.get("VERIFIER_HOME") or "./var").resolve()
        url = env.get("VERIFIER_DATABASE_URL") or f"sqlite:///{home / 'verifier.db'}"
        log_name = env.get("VERIFIER_LOG_NAME") or cls.log_name
        return cls(
            home=home,
            database_url=normalise_database_url(url),
            log_name=log_name,
            login_failures_per_account=int(env.get("VERIFIER_LOGIN_FAILURES_PER_ACCOUNT") or 5),
            login_failures_per_client=int(env.get("VERIFIER_LOGIN_FAILURES_PER_CLIENT") or 30),
            login_window_minutes=int(env.get("VERIFIER_LOGIN_WINDOW_MINUTES") or 15),
            trusted_proxies=parse_trusted_proxies(env.get("VERIFIER_TRUSTED_PROXIES") or ""),
        )
