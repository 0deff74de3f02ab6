"""Signed checkpoints of the log, the key that signs them, and its rotation.

The signing key is an Ed25519 private key kept as its 32-byte seed in `<keys_dir>/audit-signing.key`
(mode 0600, created by `verifier init`). Its name, and every checkpoint's origin, is `settings.log_name`.
Every key the log has used is recorded in `audit_key`; a rotation writes a new key file, replaces the old
one atomically and marks the old public key retired, so checkpoints signed before stay verifiable by their
key id. A running process notices a rotated key file and signs with the new key from then on.

Checkpoints are signed outside the writers' transactions: `install` registers a hook that runs after each
commit that appended entries (or, with `coalesce`, a background thread issues at most one checkpoint per
interval). `issue_checkpoint` signs the head as it is; the primary key on tree_size and a re-read after a
refused insert mean one tree size can never get two checkpoints, and two issuers that race for a size
necessarily computed the same root (the log is append-only), which is checked anyway. Before signing, the head
must extend the last checkpoint the key signed, which is kept beside the key, outside the database (lastsigned.py).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import Clock
from ..domain.errors import InvalidState
from ..settings import Settings
from ..store.db import Database
from ..store.keys import load_or_create_secret, load_secret, write_secret_file
from . import lastsigned, log
from .lastsigned import SigningRefused
from .models import AuditCheckpoint, AuditKey
from .notes import VerifierKey, checkpoint_body, sign_note

KEY_FILE = "audit-signing.key"

_checkpoint: Table = AuditCheckpoint.__table__  # type: ignore[assignment]
_key: Table = AuditKey.__table__  # type: ignore[assignment]
_logger = logging.getLogger(__name__)


class CheckpointConflict(RuntimeError):
    """A stored checkpoint disagrees with the log's head for the same size: the log was rewritten."""


class Signer:
    """The log's checkpoint signing key (Ed25519), named after the log's origin."""

    def __init__(self, name: str, seed: bytes, path: Path | None = None) -> None:
        self.name = name
        self.path = path
        # The databases whose audit_key holds this signer's key (by id), as a commit here found them: a checkpoint
        # registers its key once per database, not in every checkpoint's transaction.
        self._registered: weakref.WeakKeyDictionary[Database, str] = weakref.WeakKeyDictionary()
        self._use(seed)

    def _use(self, seed: bytes) -> None:
        private = Ed25519PrivateKey.from_private_bytes(seed)
        verifier = VerifierKey.from_public_key(self.name, private.public_key().public_bytes_raw())
        stamp = self._stamp()
        self._state = (private, verifier, stamp)  # swapped as one tuple, so readers never see a half update

    def _stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    @classmethod
    def load(cls, settings: Settings, *, create: bool = False) -> Signer:
        """The key in `settings.keys_dir`; `create=True` generates it when absent (what `verifier init` does)."""
        path = settings.keys_dir / KEY_FILE
        seed = load_or_create_secret(path, 32) if create else load_secret(path, 32)
        return cls(settings.log_name, seed, path)

    def refresh(self) -> None:
        """Pick up a key file replaced by a rotation in another process."""
        if self.path is not None and self._stamp() != self._state[2]:
            self._use(load_secret(self.path, 32))

    @property
    def verifier(self) -> VerifierKey:
        return self._state[1]

    @property
    def key_id_hex(self) -> str:
        return self.verifier.key_id.hex()

    @property
    def verifier_key(self) -> str:
        """`<name>+<key id>+<base64(0x01 || public key)>`, what a county needs to check checkpoints."""
        return str(self.verifier)

    def sign_note(self, text: str) -> str:
        return sign_note(text, self.name, self._state[0])

    def sign_checkpoint(self, size: int, root: bytes) -> str:
        return self.sign_note(checkpoint_body(self.name, size, root))

    def registered_in(self, db: Database) -> bool:
        """Whether a transaction on `db` committed this key's registration (or a checkpoint after it)."""
        return self._registered.get(db) == self.key_id_hex

    def note_registered(self, db: Database, key_id: str) -> None:
        self._registered[db] = key_id

    def register(self, session: Session, *, clock: Clock | None = None) -> None:
        """Record this public key in audit_key if it is not there yet."""
        log.insert_ignore(session, _key, {
            "name": self.verifier.name,
            "key_id": self.key_id_hex,
            "public_key": self.verifier.public_key,
            "created": (clock or Clock()).now(),
            "retired": None,
        })


def rotate(db: Database, settings: Settings, *, clock: Clock | None = None) -> Signer:
    """Replace the signing key with a new one; the old public key stays in audit_key, marked retired."""
    clock = clock or Clock()
    old = Signer.load(settings)
    path = settings.keys_dir / KEY_FILE
    fresh = path.with_name(KEY_FILE + ".new")
    fresh.unlink(missing_ok=True)  # left by an interrupted rotation; it never signed anything
    seed = secrets.token_bytes(32)
    write_secret_file(fresh, seed)
    os.replace(fresh, path)
    new = Signer(settings.log_name, seed, path)
    with db.begin() as session:
        old.register(session, clock=clock)
        new.register(session, clock=clock)
        session.execute(
            update(_key)
            .where(_key.c.retired.is_(None))
            .where((_key.c.name != new.verifier.name) | (_key.c.key_id != new.key_id_hex))
            .values(retired=clock.now())
        )
    return new


def known_keys(session: Session) -> list[VerifierKey]:
    """Every key in the registry, current and retired."""
    rows = session.execute(select(_key.c.name, _key.c.public_key)).all()
    return [VerifierKey.from_public_key(name, bytes(public)) for name, public in rows]


@dataclass(frozen=True)
class StoredCheckpoint:
    tree_size: int
    root: bytes
    key_id: str
    note: str
    created: datetime


def _as_stored(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(row.tree_size, bytes(row.root), row.key_id, row.note, row.created)


def latest_checkpoint(session: Session) -> StoredCheckpoint | None:
    row = session.execute(select(_checkpoint).order_by(_checkpoint.c.tree_size.desc()).limit(1)).first()
    return None if row is None else _as_stored(row)


def checkpoint_at(session: Session, tree_size: int) -> StoredCheckpoint | None:
    row = session.execute(select(_checkpoint).where(_checkpoint.c.tree_size == tree_size)).first()
    return None if row is None else _as_stored(row)


SIGNING_REFUSED = ("审计日志与签名密钥最后签署的检查点不一致（日志可能已被改写或回退），已拒绝签署新的检查点；"
                   "请审计人员运行 verifier audit verify 核查。")


def issue_checked(db: Database, signer: Signer, *, clock: Clock | None = None) -> StoredCheckpoint:
    """`issue_checkpoint` for a request: a refusal to sign (`SigningRefused`: the log does not extend what the key
    signed last) answered 409 in Chinese, its reason logged, instead of an error of the server."""
    try:
        return issue_checkpoint(db, signer, clock=clock)
    except SigningRefused as exc:
        _logger.error("audit checkpoint NOT signed: %s", exc)
        raise InvalidState(SIGNING_REFUSED) from exc


def issue_checkpoint(db: Database, signer: Signer, *, clock: Clock | None = None) -> StoredCheckpoint:
    """Sign and store a checkpoint of the log's current head, unless one of that size exists; return it.

    With a key file (`signer.path`), the head must extend the last checkpoint that key signed, saved beside it
    (lastsigned.py); otherwise `SigningRefused` is raised and nothing is signed. The head is read, checked, signed and
    saved under the keys directory's lock; the row is written after it is let go (a commit's hook may be waiting for
    the lock while its writer still holds the database's write turn)."""
    clock = clock or Clock()
    if signer.path is None:
        signed = _sign(db, signer, None)
    else:
        with lastsigned.signing_lock(signer.path.parent):
            signed = _sign(db, signer, signer.path.parent)
    if isinstance(signed, StoredCheckpoint):
        return signed
    size, root, note = signed
    created = clock.now()
    key_id = signer.key_id_hex
    try:
        with db.begin() as session:
            if not signer.registered_in(db):
                signer.register(session, clock=clock)
            session.execute(_checkpoint.insert().values(
                tree_size=size, root=root, key_id=key_id, note=note, created=created,
            ))
        signer.note_registered(db, key_id)
    except IntegrityError:
        with db.read() as session:
            existing = checkpoint_at(session, size)
        if existing is None:
            raise
        return _same_root(existing, root)
    return StoredCheckpoint(size, root, signer.key_id_hex, note, created)


def _sign(db: Database, signer: Signer, keys_dir: Path | None) -> StoredCheckpoint | tuple[int, bytes, str]:
    """The stored checkpoint of the head's size, or the head's size, root and signed note (saved beside the key)."""
    last = None if keys_dir is None else lastsigned.read_saved(keys_dir)
    with db.read() as session:
        head = log.read_head(session)
        existing = checkpoint_at(session, head.size)
        problem = None if last is None else lastsigned.extension_problem(session, last, head)
    if problem is not None:
        raise SigningRefused(f"refusing to sign a checkpoint: {problem}")
    root = head.root()
    if existing is not None:
        return _same_root(existing, root)
    signer.refresh()
    note = signer.sign_checkpoint(head.size, root)
    if keys_dir is not None:
        lastsigned.save(keys_dir, lastsigned.LastSigned(head.size, root, note))
    return head.size, root, note


def _same_root(existing: StoredCheckpoint, root: bytes) -> StoredCheckpoint:
    if existing.root != root:
        raise CheckpointConflict(
            f"checkpoint for size {existing.tree_size} has root {existing.root.hex()}, "
            f"the log's head has {root.hex()}"
        )
    return existing


class _Coalescer:
    """Issues at most one checkpoint per `interval` seconds after being poked, on a daemon thread."""

    def __init__(self, db: Database, signer: Signer, interval: float, clock: Clock | None) -> None:
        self.db, self.signer, self.interval, self.clock = db, signer, interval, clock
        self._lock = threading.Lock()
        self._poked = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._hurry = threading.Event()  # set by `close`: the interval's wait ends at once (nothing more is coming)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        if self._poked.is_set():
            return  # a checkpoint is due already, issued after `_run` clears this (so after this commit)
        with self._lock:
            self._idle.clear()
            self._poked.set()

    def _run(self) -> None:
        while True:
            self._poked.wait()
            if self._stopping:
                return
            self._hurry.wait(self.interval)  # the commits of this interval share one checkpoint
            with self._lock:
                self._poked.clear()
            _issue_logged(self.db, self.signer, self.clock)
            with self._lock:
                if not self._poked.is_set():
                    self._idle.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every poke so far has been followed by a checkpoint."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Issue the checkpoint still due at once (no commit of this hook is coming to share it), then stop."""
        self._hurry.set()
        self.flush()
        self._stopping = True
        self._poked.set()
        self._thread.join(timeout=self.interval + 5)


def _issue_logged(db: Database, signer: Signer, clock: Clock | None) -> None:
    # The business write has committed already: a failure here must not turn it into an error.
    # The next write (or `issue_checkpoint`) signs the head again; `audit verify` reports any real damage.
    try:
        issue_checkpoint(db, signer, clock=clock)
    except SigningRefused as exc:
        _logger.error("audit checkpoint NOT signed: %s; run `verifier audit verify`", exc)
    except Exception:
        _logger.exception("could not issue an audit checkpoint")


class CheckpointHook:
    """The after-commit hook `install` registers; call `close()` to remove it."""

    def __init__(self, db: Database, signer: Signer, *, coalesce: float = 0.0, clock: Clock | None = None) -> None:
        self.db, self.signer, self.clock = db, signer, clock
        self._coalescer = _Coalescer(db, signer, coalesce, clock) if coalesce > 0 else None

    def __call__(self, info: dict[str, Any]) -> None:
        if not info.get(log.APPENDED):
            return
        if self._coalescer is not None:
            self._coalescer.poke()
        else:
            _issue_logged(self.db, self.signer, self.clock)

    def flush(self, timeout: float = 10.0) -> bool:
        return True if self._coalescer is None else self._coalescer.flush(timeout)

    def close(self) -> None:
        if self in self.db.after_commit:
            self.db.after_commit.remove(self)
        if self._coalescer is not None:
            self._coalescer.close()


def install(db: Database, signer: Signer, *, coalesce: float = 0.0, clock: Clock | None = None) -> CheckpointHook:
    """Issue a checkpoint after every commit that appended entries.

    With `coalesce` > 0 the checkpoint is issued by a background thread at most `coalesce` seconds after
    the commit, one for many commits. Installing again replaces the previous hook on this database.
    """
    for hook in [h for h in db.after_commit if isinstance(h, CheckpointHook)]:
        hook.close()
    hook = CheckpointHook(db, signer, coalesce=coalesce, clock=clock)
    db.after_commit.append(hook)
    return hook
