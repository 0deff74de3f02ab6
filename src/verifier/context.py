"""Everything a use case needs, built once per process: settings, database, vault, clock, contracts, signer."""

from __future__ import annotations

from dataclasses import dataclass, field
from .audit.checkpoints import Signer
from .clock import Clock
from .settings import Settings
from .store.db import Database
from .store.vault import Vault


@dataclass
class Context:
    settings: Settings
    db: Database
    vault: Vault
    clock: Clock = field(default_factory=Clock)
    signer: Signer | None = None

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None, create_keys: bool = False) -> "Context":
        from .audit import checkpoints

        settings.home.mkdir(parents=True, exist_ok=True)
        db = Database(settings.database_url)
        vault = Vault.from_dir(settings.keys_dir, create=create_keys)
        signer = checkpoints.Signer.load(settings, create=create_keys)
        ctx = cls(settings=settings, db=db, vault=vault, clock=clock or Clock(), signer=signer)
        checkpoints.install(db, signer)
        return ctx

    def close(self) -> None:
        self.db.dispose()
