"""Everything a use case needs, built once per process: settings, database, vault, clock, contracts, signer."""

from __future__ import annotations

from dataclasses import dataclass, field

from .audit.checkpoints import CheckpointHook, Signer
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
    checkpoint_hook: CheckpointHook | None = None

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None, create_keys: bool = False) -> "Context":
        from .audit import checkpoints

        settings.home.mkdir(parents=True, exist_ok=True)
        db = Database(settings.database_url)
        vault = Vault.from_dir(settings.keys_dir, create=create_keys)
        signer = checkpoints.Signer.load(settings, create=create_keys)
        ctx = cls(settings=settings, db=db, vault=vault, clock=clock or Clock(), signer=signer)
        # Checkpoints are signed off the request path, at most a second after a write commits.
        ctx.checkpoint_hook = checkpoints.install(db, signer, coalesce=1.0)
        return ctx

    def close(self) -> None:
        if self.checkpoint_hook is not None:
            self.checkpoint_hook.close()  # signs what is still pending first
        self.db.dispose()
