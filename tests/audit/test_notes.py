"""Signed notes and checkpoints, byte for byte against the reference examples, and their failure modes."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.audit.notes import (
    Checkpoint,
    NoteError,
    VerifierKey,
    checkpoint_body,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_note,
)

# The example key and note from the documentation of golang.org/x/mod/sumdb/note. Ed25519 is
# deterministic, so signing the same text with the same key must give this signature exactly.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

# The example of the C2SP signed-note specification.
SPEC_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n\u2014 example.com/foo "
             "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")


def go_private_key() -> Ed25519PrivateKey:
    raw = base64.b64decode(GO_SIGNER.split("+", 4)[4])
    assert raw[0] == 0x01
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_signing_reproduces_the_reference_note_exactly() -> None:
    assert sign_note(GO_TEXT, "PeterNeumann", go_private_key()) == GO_NOTE


def test_verifier_key_string_and_key_id_rule() -> None:
    key = VerifierKey.parse(GO_VERIFIER)
    public = go_private_key().public_key().public_bytes_raw()
    assert key.public_key == public
    assert key.key_id == hashlib.sha256(b"PeterNeumann\n\x01" + public).digest()[:4] == bytes.fromhex("c74f20a3")
    assert key_id("PeterNeumann", public) == key.key_id
    assert str(key) == GO_VERIFIER


def test_reference_notes_open() -> None:
    note = open_note(GO_NOTE, [VerifierKey.parse(GO_VERIFIER)])
    assert note.text == GO_TEXT
    spec = open_note(SPEC_NOTE, [VerifierKey.parse(SPEC_VERIFIER)])
    assert spec.text == "This is an example message.\n"


@pytest.mark.parametrize("bad", [
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # key id does not match the key
    "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+c74f20a3+AhpczQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not algorithm 0x01
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1",
    "PeterNeumann+c74f20a3",
])
def test_malformed_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        VerifierKey.parse(bad)


def test_unknown_signatures_are_ignored_but_one_known_must_verify() -> None:
    other = Ed25519PrivateKey.generate()
    cosigned = sign_note(GO_TEXT, "witness.example/w", other)
    both = GO_NOTE + cosigned.split("\n\n", 1)[1].split("\n\n")[-1]
    note = open_note(both, [VerifierKey.parse(GO_VERIFIER)])
    assert [k.name for k in note.verified_by] == ["PeterNeumann"]
    assert len(note.signatures) == 2
    with pytest.raises(NoteError, match="not signed by any known key"):
        open_note(GO_NOTE, [VerifierKey.from_public_key("PeterNeumann", other.public_key().public_bytes_raw())])


def test_a_bad_signature_by_a_known_key_fails_the_note() -> None:
    key = VerifierKey.parse(GO_VERIFIER)
    altered_text = GO_NOTE.replace("cryptography", "cryptografie")
    with pytest.raises(NoteError, match="does not verify"):
        open_note(altered_text, [key])
    sig = base64.b64decode(GO_NOTE.rsplit(" ", 1)[1])
    forged = GO_TEXT + "\n\u2014 PeterNeumann " + base64.b64encode(sig[:4] + bytes(64)).decode() + "\n"
    with pytest.raises(NoteError, match="does not verify"):
        open_note(forged, [key])


@pytest.mark.parametrize("bad", [
    GO_TEXT + "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
    GO_NOTE[:-1],  # no final newline
    GO_NOTE.replace("\u2014", "-"),
    GO_NOTE.replace("\u2014 PeterNeumann ", "\u2014 PeterNeumann  "),
    GO_NOTE.replace("PeterNeumann x08", "Peter+Neumann x08"),
    GO_NOTE.replace("x08go/", "x08go*"),
    GO_NOTE + "\u2014 PeterNeumann AAAA\n",  # too short to hold a key id and a signature
    GO_TEXT.replace("\n", "\r\n", 1) + GO_NOTE[len(GO_TEXT):],
    GO_TEXT + "\n",
])
def test_malformed_notes_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        open_note(bad, [VerifierKey.parse(GO_VERIFIER)])


def test_checkpoint_body_and_parse() -> None:
    root = hashlib.sha256(b"root").digest()
    body = checkpoint_body("example.com/log", 20852163, root)
    assert body == f"example.com/log\n20852163\n{base64.b64encode(root).decode()}\n"
    assert parse_checkpoint(body) == Checkpoint("example.com/log", 20852163, root)
    assert parse_checkpoint(body + "ext\n").extensions == ("ext",)
    private = Ed25519PrivateKey.generate()
    note = sign_note(body, "example.com/log", private)
    checkpoint, opened = open_checkpoint(note, [VerifierKey.from_public_key("example.com/log",
                                                                            private.public_key().public_bytes_raw())])
    assert checkpoint.size == 20852163 and checkpoint.root == root and opened.text == body


@pytest.mark.parametrize("bad", [
    "example.com/log\n20852163\n",
    "example.com/log\n020852163\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    "example.com/log\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    "example.com/log\n5\nAAAA\n",
    "\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    "example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
    "example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
])
def test_malformed_checkpoints_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(bad)


def test_parse_note_splits_at_the_last_blank_line() -> None:
    private = Ed25519PrivateKey.generate()
    text = "line one\n\nline three after a blank\n"
    note = parse_note(sign_note(text, "n", private))
    assert note.text == text and note.signatures[0].name == "n"
