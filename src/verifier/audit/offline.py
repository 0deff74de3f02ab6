"""Checks a county can run on its own, with no access to the database: files in, verdict out.

- An exported entry (the `GET /api/audit/entries/{index}` response: `index`, `entry` as base64 of the
  exact bytes, `leaf_hash` and `inclusion_proof` as hex, `tree_size`) against a signed checkpoint note and
  the log's verifier key: the entry is in the log the checkpoint commits to.
- Two checkpoint notes the county kept (older and newer) and a consistency proof (`{"proof": [hex, ...]}`,
  from `GET /api/audit/consistency?first=OLD&second=NEW`): the newer log extends the older one unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import merkle
from .canonical import CanonicalError, Entry, decode_entry
from .notes import Checkpoint, NoteError, VerifierKey, open_checkpoint


class OfflineCheckFailed(Exception):
    """The evidence does not prove what it claims; the message says why."""


@dataclass(frozen=True)
class InclusionChecked:
    index: int
    tree_size: int
    origin: str
    root: bytes
    entry: Entry


@dataclass(frozen=True)
class ConsistencyChecked:
    origin: str
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes


def load_key(key: str | VerifierKey) -> VerifierKey:
    """A verifier key given as the key string itself or as the path of a file holding it."""
    if isinstance(key, VerifierKey):
        return key
    text = key.strip()
    try:
        path = Path(text)
        if len(text) < 4096 and path.is_file():
            text = path.read_text(encoding="utf-8").strip()
    except OSError:
        pass
    try:
        return VerifierKey.parse(text)
    except NoteError as exc:
        raise OfflineCheckFailed(f"the verifier key is not usable: {exc}") from None


def _json(doc: str | bytes | dict[str, Any], what: str) -> dict[str, Any]:
    if isinstance(doc, dict):
        return doc
    try:
        obj = json.loads(doc)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OfflineCheckFailed(f"{what} is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise OfflineCheckFailed(f"{what} must be a JSON object")
    return obj


def _int(obj: dict[str, Any], name: str, what: str) -> int:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OfflineCheckFailed(f"{what}: {name} must be a non-negative integer")
    return value


def _hashes(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise OfflineCheckFailed(f"{what} must be a list of hex hashes")
    out = []
    for i, item in enumerate(value):
        try:
            h = bytes.fromhex(item) if isinstance(item, str) else b""
        except ValueError:
            h = b""
        if len(h) != merkle.HASH_SIZE:
            raise OfflineCheckFailed(f"{what}[{i}] is not a 32-byte hash in hex")
        out.append(h)
    return out


def _checkpoint(note: str | bytes, key: VerifierKey, what: str) -> Checkpoint:
    try:
        checkpoint, _ = open_checkpoint(note, [key])
    except NoteError as exc:
        raise OfflineCheckFailed(f"{what}: {exc}") from None
    return checkpoint


def check_entry_proof(
    entry_doc: str | bytes | dict[str, Any], checkpoint_note: str | bytes, key: str | VerifierKey
) -> InclusionChecked:
    """Prove an exported entry is in the log a signed checkpoint commits to."""
    key = load_key(key)
    doc = _json(entry_doc, "the entry file")
    index = _int(doc, "index", "the entry file")
    tree_size = _int(doc, "tree_size", "the entry file")
    proof = _hashes(doc.get("inclusion_proof"), "inclusion_proof")
    try:
        data = base64.b64decode(str(doc.get("entry", "")).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise OfflineCheckFailed("the entry file's `entry` is not base64") from None
    checkpoint = _checkpoint(checkpoint_note, key, "the checkpoint")
    if tree_size != checkpoint.size:
        raise OfflineCheckFailed(
            f"the proof is for a tree of {tree_size} entries but the checkpoint is for {checkpoint.size}: "
            f"export the entry again with tree size {checkpoint.size}"
        )
    leaf = merkle.leaf_hash(data)
    if "leaf_hash" in doc and str(doc["leaf_hash"]).lower() != leaf.hex():
        raise OfflineCheckFailed("the entry's bytes do not hash to the leaf hash given with it")
    try:
        merkle.verify_inclusion(leaf, index, tree_size, proof, checkpoint.root)
    except merkle.ProofError as exc:
        raise OfflineCheckFailed(f"entry {index} is not proven to be in the checkpointed log: {exc}") from None
    try:
        entry = decode_entry(data)
    except CanonicalError as exc:
        raise OfflineCheckFailed(f"entry {index} is in the log but is not a well-formed entry: {exc}") from None
    if entry.index != index:
        raise OfflineCheckFailed(f"the entry at position {index} says it is entry {entry.index}")
    return InclusionChecked(index, tree_size, checkpoint.origin, checkpoint.root, entry)


def check_consistency(
    old_note: str | bytes,
    new_note: str | bytes,
    proof_doc: str | bytes | dict[str, Any],
    key: str | VerifierKey,
) -> ConsistencyChecked:
    """Prove the newer checkpoint's log extends the older one's without changing it."""
    key = load_key(key)
    old = _checkpoint(old_note, key, "the older checkpoint")
    new = _checkpoint(new_note, key, "the newer checkpoint")
    if old.origin != new.origin:
        raise OfflineCheckFailed(f"the checkpoints are of different logs: {old.origin!r} and {new.origin!r}")
    if old.size > new.size:
        raise OfflineCheckFailed(
            f"the 'older' checkpoint covers {old.size} entries, more than the 'newer' one ({new.size}): "
            "give them in the other order"
        )
    doc = _json(proof_doc, "the proof file")
    proof = _hashes(doc.get("proof"), "proof")
    for name, size in (("first", old.size), ("second", new.size)):
        if name in doc and doc[name] != size:
            raise OfflineCheckFailed(f"the proof is for {name}={doc[name]}, the checkpoint is for {size} entries")
    try:
        merkle.verify_consistency(old.size, new.size, proof, old.root, new.root)
    except merkle.ProofError as exc:
        raise OfflineCheckFailed(
            f"the log of {new.size} entries is not shown to extend the log of {old.size} entries: {exc}"
        ) from None
    return ConsistencyChecked(old.origin, old.size, new.size, old.root, new.root)
