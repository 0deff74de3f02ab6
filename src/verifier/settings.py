"""Settings from the environment: `VERIFIER_HOME` (default ./var) and `VERIFIER_DATABASE_URL`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def normalise_database_url(url: str) -> str:
    """Map the plain forms people type to the drivers we ship (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    log_name: str = "verifier.example/relief-audit"
    login_attempts_per_minute: int = 10
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
            login_attempts_per_minute=int(env.get("VERIFIER_LOGIN_ATTEMPTS_PER_MINUTE") or 10),
        )
