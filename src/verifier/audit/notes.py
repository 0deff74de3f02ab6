"""Signed notes (c2sp.org/signed-note) with Ed25519, and checkpoints (c2sp.org/tlog-checkpoint).

A signed note is its text (ending in a newline), a blank line, then signature lines

    — <key name> <base64(key id (4 bytes, big-endian) || Ed25519 signature over the text)>

with an em dash (U+2014). The key id is the first four bytes of SHA-256(name || 0x0A || 0x01 || public key).
A verifier key is written `<name>+<key id as 8 hex digits>+<base64(0x01 || 32-byte public key)>`.

A checkpoint is a note whose text is `<origin>\\n<tree size>\\n<base64 root hash>\\n` (optionally followed by
non-empty extension lines). This log's key name is its origin.

No database here: the county's offline checks use this module alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

EM_DASH = "\u2014"
ALG_ED25519 = 0x01
MAX_SIGNATURES = 100
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,19})$")
_HEX_ID = re.compile(r"^[0-9a-fA-F]{8}$")


class NoteError(ValueError):
    """A note, checkpoint or key that is malformed or does not verify."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


def check_key_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"key name {name!r} must be non-empty, with no spaces and no '+'")


def key_id(name: str, public_key: bytes) -> bytes:
    """The signed-note key id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> VerifierKey:
        check_key_name(name)
        if len(public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")
        return cls(name, key_id(name, public_key), bytes(public_key))

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse `<name>+<hex key id>+<base64(0x01 || key)>`; the key id must match the key."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key reads <name>+<key id>+<base64 key>")
        name, hex_id, encoded = parts
        check_key_name(name)
        if not _HEX_ID.match(hex_id):
            raise NoteError(f"key id {hex_id!r} is not 8 hex digits")
        raw = unb64(encoded, "verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("verifier key is not an Ed25519 key (0x01 followed by 32 bytes)")
        key = cls.from_public_key(name, raw[1:])
        if key.key_id != bytes.fromhex(hex_id):
            raise NoteError(f"key id {hex_id} does not match the key (expected {key.key_id.hex()})")
        return key

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]
    verified_by: tuple[VerifierKey, ...] = field(default=())


def _check_note_characters(msg: str) -> None:
    for ch in msg:
        if ch < " " and ch != "\n":
            raise NoteError("a note may not contain control characters other than newline")


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The note `text` signed with one Ed25519 key named `name`."""
    check_key_name(name)
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_note_characters(text)
    public = private_key.public_key().public_bytes_raw()
    signature = private_key.sign(text.encode("utf-8"))
    return f"{text}\n{EM_DASH} {name} {b64(key_id(name, public) + signature)}\n"


def parse_note(msg: str | bytes) -> Note:
    """Split a signed note into its text and signature lines, without verifying anything."""
    if isinstance(msg, bytes):
        try:
            msg = msg.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("a note must be valid UTF-8") from None
    _check_note_characters(msg)
    split = msg.rfind("\n\n")
    if split < 0:
        raise NoteError("a note needs a blank line between its text and its signatures")
    text, block = msg[: split + 1], msg[split + 2:]
    if not block or not block.endswith("\n"):
        raise NoteError("a note needs signature lines, each ending in a newline")
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise NoteError(f"signature line must start with an em dash and a space: {line[:40]!r}")
        name, _, encoded = line[2:].partition(" ")
        check_key_name(name)
        raw = unb64(encoded, f"signature of {name}") if encoded else b""
        if len(raw) < 5:
            raise NoteError(f"signature of {name} is too short")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
        if len(signatures) > MAX_SIGNATURES:
            raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    return Note(text, tuple(signatures))


def open_note(msg: str | bytes, keys: Iterable[VerifierKey]) -> Note:
    """Parse and verify a note: signatures by unknown keys are ignored, a bad one by a known key fails the
    note, and at least one known key must have signed it. Returns the note with the keys that verified."""
    note = parse_note(msg)
    known = {(k.name, k.key_id): k for k in keys}
    message = note.text.encode("utf-8")
    verified: list[VerifierKey] = []
    for sig in note.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        if not key.verify(message, sig.signature):
            raise NoteError(f"signature by {key.name} (key {key.key_id.hex()}) does not verify")
        if key not in verified:
            verified.append(key)
    if not verified:
        ids = ", ".join(f"{s.name}/{s.key_id.hex()}" for s in note.signatures)
        raise NoteError(f"note is not signed by any known key (signed by {ids})")
    return Note(note.text, note.signatures, tuple(verified))


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "\n".join(lines) + "\n"


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return Checkpoint(origin, size, root).body()


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint's note text (not the signatures)."""
    if not text.endswith("\n"):
        raise NoteError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has at least three lines: origin, tree size, root hash")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteError("checkpoint origin is empty")
    if not _SIZE.match(size_text):
        raise NoteError(f"checkpoint tree size {size_text!r} is not a decimal number without leading zeros")
    root = unb64(root_text, "checkpoint root hash")
    if len(root) != 32:
        raise NoteError("checkpoint root hash is not 32 bytes")
    if any(not line for line in extensions):
        raise NoteError("checkpoint extension lines must not be empty")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def open_checkpoint(msg: str | bytes, keys: Iterable[VerifierKey]) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint note and parse its text."""
    note = open_note(msg, keys)
    checkpoint = parse_checkpoint(note.text)
    return checkpoint, note
