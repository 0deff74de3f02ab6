"""The last checkpoint the signing key signed, kept beside the key, outside the database.

Whoever can write the database but not read the keys directory could rewrite old entries, recompute the tree and
the head, delete the checkpoints that contradict them, and wait for the next commit to have the genuine key sign the
rewritten head. So the signer keeps its last signature in `<keys_dir>/audit-last-checkpoint.json` (mode 0600,
replaced atomically after each signature) and signs a head only when it extends that checkpoint: the same root at
the same size, or a consistency proof from it to a larger head that verifies. `audit verify` checks the log against
this file too. A home without the file (a fresh one, or one from before the file) signs as before and starts it.

Several processes may sign (`serve --workers N`): the head is read, checked, signed and the file written under an
exclusive lock on `<keys_dir>/audit-signing.lock` (flock, so threads of one process exclude each other too).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from . import merkle
from .log import LogCorrupt, read_head
from .notes import parse_checkpoint, parse_note
from .proofs import consistency_proof

SAVED_FILE = "audit-last-checkpoint.json"
LOCK_FILE = "audit-signing.lock"


class SigningRefused(RuntimeError):
    """The log's head does not extend the last checkpoint the key signed: the log was rewritten or rolled back."""


@dataclass(frozen=True)
class LastSigned:
    tree_size: int
    root: bytes
    note: str

    @classmethod
    def from_note(cls, note: str) -> LastSigned:
        checkpoint = parse_checkpoint(parse_note(note).text)
        return cls(checkpoint.size, checkpoint.root, note)

    def to_json(self) -> str:
        return json.dumps({"tree_size": self.tree_size, "root": self.root.hex(), "note": self.note}, indent=1) + "\n"


def read_saved(keys_dir: Path) -> LastSigned | None:
    """The saved last checkpoint, or None when there is none yet; a file that is not one raises RuntimeError."""
    path = keys_dir / SAVED_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(raw)
        saved = LastSigned(int(doc["tree_size"]), bytes.fromhex(doc["root"]), str(doc["note"]))
        from_note = LastSigned.from_note(saved.note)
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"the last signed checkpoint file {path} is unreadable: {exc}") from None
    if (from_note.tree_size, from_note.root) != (saved.tree_size, saved.root):
        raise RuntimeError(f"the last signed checkpoint file {path} is unreadable: its size or root differs from its note")
    return saved


def save(keys_dir: Path, last: LastSigned) -> None:
    """Replace the saved checkpoint atomically (a temporary file beside it, then a rename), mode 0600."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{SAVED_FILE}.", dir=keys_dir)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(last.to_json())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, keys_dir / SAVED_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(keys_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def signing_lock(keys_dir: Path) -> Iterator[None]:
    """Exclusive among every process and thread signing with the keys in `keys_dir`."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(keys_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def extension_problem(session: Session, last: LastSigned, head: merkle.CompactRange | None = None) -> str | None:
    """Why the log's head (`head`, or read in `session`) does not extend `last`, or None when it does."""
    head = read_head(session) if head is None else head
    if head.size < last.tree_size:
        return (f"the log's head holds {head.size} entries, fewer than the {last.tree_size} of the last checkpoint "
                "the signing key signed")
    root = head.root()
    if head.size == last.tree_size:
        if root == last.root:
            return None
        return f"the log's root at size {head.size} differs from the last checkpoint the signing key signed for that size"
    try:
        proof = consistency_proof(session, last.tree_size, head.size, head)
        merkle.verify_consistency(last.tree_size, head.size, proof, last.root, root)
    except (merkle.ProofError, LogCorrupt, ValueError) as exc:
        return (f"the log of {head.size} entries does not extend the last checkpoint the signing key signed "
                f"({last.tree_size} entries): {exc}")
    return None
