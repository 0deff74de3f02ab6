"""Settings from the environment: `VERIFIER_HOME` (default ./var), `VERIFIER_DATABASE_URL`, `VERIFIER_PUBLIC_URL`, and
the limits on uploaded files (`ImportLimits`)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path


def normalise_database_url(url: str) -> str:
    """Map the plain forms people type to the drivers we ship (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


MiB = 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """How large an uploaded file parsed into rows may be (referral files, bank returns); each from its env var.

    The whole file is read and checked against these before the import takes the write lock, and an xlsx's zip is
    checked before anything is unpacked, so a small file that unpacks to gigabytes is refused unread.
    """

    max_bytes: int = 32 * MiB
    """VERIFIER_MAX_IMPORT_BYTES: the file as sent."""
    max_rows: int = 200_000
    """VERIFIER_MAX_IMPORT_ROWS: rows after the header, empty ones included."""
    max_cells: int = 4_000_000
    """VERIFIER_MAX_IMPORT_CELLS: cells in all rows (a row's cells up to its last one, empty ones included)."""
    max_xlsx_bytes: int = 256 * MiB
    """VERIFIER_MAX_XLSX_UNPACKED_BYTES: the sum of the sizes the xlsx's zip declares for its parts."""
    max_shared_strings: int = 1_000_000
    """VERIFIER_MAX_XLSX_SHARED_STRINGS: entries in the workbook's table of shared strings."""

    ENV = {"max_bytes": "VERIFIER_MAX_IMPORT_BYTES", "max_rows": "VERIFIER_MAX_IMPORT_ROWS",
           "max_cells": "VERIFIER_MAX_IMPORT_CELLS", "max_xlsx_bytes": "VERIFIER_MAX_XLSX_UNPACKED_BYTES",
           "max_shared_strings": "VERIFIER_MAX_XLSX_SHARED_STRINGS"}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ImportLimits":
        given = {}
        for f in fields(cls):
            raw = env.get(cls.ENV[f.name])
            if raw:
                value = int(raw)
                if value < 1:
                    raise ValueError(f"{cls.ENV[f.name]} must be a positive whole number, got {raw!r}")
                given[f.name] = value
        return cls(**given)


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
    # Look-ups by a whole ID number a refusal would answer (a check's new members, an application's roster group),
    # per user and kind in the same window (accounts/probes.py).
    id_lookups_per_window: int = 60
    # Proxies whose X-Forwarded-For is believed (addresses or networks); empty: nobody's.
    trusted_proxies: tuple[str, ...] = ()
    max_upload_bytes: int = 20 * MiB
    imports: ImportLimits = field(default_factory=ImportLimits)
    public_url: str = ""
    """VERIFIER_PUBLIC_URL: where people reach the pages (`https://…` makes every cookie `Secure`)."""

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.lower().startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
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
            id_lookups_per_window=int(env.get("VERIFIER_ID_LOOKUPS_PER_WINDOW") or 60),
            trusted_proxies=parse_trusted_proxies(env.get("VERIFIER_TRUSTED_PROXIES") or ""),
            imports=ImportLimits.from_env(env),
            public_url=(env.get("VERIFIER_PUBLIC_URL") or "").strip(),
        )
