"""Checkpoints: signed after commits, one per size, consistent with each other; keys created 0600 and rotated."""

from __future__ import annotations

import base64
import logging
import stat
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, insert, select

from verifier.audit import log, proofs
from verifier.audit.checkpoints import (
    KEY_FILE,
    CheckpointConflict,
    Signer,
    install,
    issue_checkpoint,
    known_keys,
    latest_checkpoint,
    rotate,
)
from verifier.audit.cli import audit
from verifier.audit.models import AuditCheckpoint, AuditKey
from verifier.audit.notes import VerifierKey, open_checkpoint
from verifier.audit.verify import verify_log
from verifier.settings import Settings
from verifier.store.db import Database


def test_key_file_is_private_and_loading_needs_it(settings: Settings) -> None:
    with pytest.raises(RuntimeError, match="verifier init"):
        Signer.load(settings)
    signer = Signer.load(settings, create=True)
    path = settings.keys_dir / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Signer.load(settings).verifier_key == signer.verifier_key
    name, key_id, encoded = signer.verifier_key.split("+", 2)
    assert name == settings.log_name and len(key_id) == 8 and base64.b64decode(encoded)[0] == 1


def test_each_commit_that_appends_gets_a_signed_checkpoint(db: Database, hook, add_entries, signer: Signer) -> None:
    add_entries(3)
    with db.begin():
        pass  # commits without appending sign nothing
    with db.read() as session:
        latest = latest_checkpoint(session)
        count = session.scalar(select(func.count()).select_from(AuditCheckpoint))
        root = proofs.root_at(session, 3)
    assert count == 4  # sizes 0, 1, 2, 3
    assert latest is not None and latest.tree_size == 3 and latest.key_id == signer.key_id_hex
    checkpoint, _ = open_checkpoint(latest.note, [VerifierKey.parse(signer.verifier_key)])
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (signer.name, 3, root)
    assert latest.note.startswith(f"{signer.name}\n3\n{base64.b64encode(root).decode()}\n\n\u2014 {signer.name} ")
    assert issue_checkpoint(db, signer).note == latest.note  # the same size is never signed twice


def test_a_checkpoint_that_disagrees_with_the_head_is_refused(db: Database, hook, add_entries, signer, caplog) -> None:
    add_entries(2)
    with db.begin() as session:
        created = latest_checkpoint(session).created
        session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.tree_size == 2))
        for size in (2, 3):  # a rewritten present, and a future planted in advance
            session.execute(insert(AuditCheckpoint).values(tree_size=size, root=bytes(32), key_id=signer.key_id_hex,
                                                           note="forged", created=created))
    with pytest.raises(CheckpointConflict, match="size 2"):
        issue_checkpoint(db, signer)
    # After a commit the hook reports the problem but never fails the business write that has committed.
    caplog.set_level(logging.ERROR)
    add_entries(1)
    with db.read() as session:
        assert log.tree_size(session) == 3
    assert "could not issue an audit checkpoint" in caplog.text
    assert "CheckpointConflict" in caplog.text


def test_racing_issuers_store_one_checkpoint_per_size(db: Database, signer: Signer, add_entries) -> None:
    add_entries(5)  # no hook installed: nothing signed yet
    barrier = threading.Barrier(6)
    notes: list[str] = []

    def issue() -> None:
        barrier.wait()
        notes.append(issue_checkpoint(db, signer).note)

    threads = [threading.Thread(target=issue) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(notes)) == 1 and len(notes) == 6
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1


def test_coalesced_checkpoints_catch_up_shortly_after(db: Database, signer: Signer, add_entries) -> None:
    hook = install(db, signer, coalesce=0.05)
    try:
        add_entries(12)
        assert hook.flush(timeout=10)
    finally:
        hook.close()
    with db.read() as session:
        assert latest_checkpoint(session).tree_size == 12
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) <= 12


def test_closing_a_coalescing_hook_signs_what_is_due_without_waiting_out_its_interval(
    db: Database, signer: Signer, add_entries
) -> None:
    # A command closing its context right after a write: the checkpoint due is issued then, not after the interval
    # (an hour here: waiting it out, the close would not return before the test's timeout).
    hook = install(db, signer, coalesce=3600)
    add_entries(5)
    closing = threading.Thread(target=hook.close, daemon=True)
    closing.start()
    closing.join(timeout=60)
    assert not closing.is_alive()
    with db.read() as session:
        assert latest_checkpoint(session).tree_size == 5


def test_rotation_keeps_old_checkpoints_verifiable(
    db: Database, hook, add_entries, signer: Signer, settings: Settings
) -> None:
    add_entries(4)
    old_key = signer.verifier
    new_signer = rotate(db, settings)
    assert new_signer.verifier_key != old_key.__str__()
    assert Signer.load(settings).verifier_key == new_signer.verifier_key
    assert not (settings.keys_dir / (KEY_FILE + ".new")).exists()
    add_entries(3)  # the hook's signer object notices the new key file and signs with it

    with db.read() as session:
        rows = {r.key_id: r for r in session.scalars(select(AuditKey))}
        keys = known_keys(session)
        by_size = {c.tree_size: c.key_id for c in session.scalars(select(AuditCheckpoint))}
    assert rows[old_key.key_id_hex].retired is not None
    assert rows[new_signer.key_id_hex].retired is None
    assert {by_size[s] for s in range(5)} == {old_key.key_id_hex}
    assert {by_size[s] for s in range(5, 8)} == {new_signer.key_id_hex}

    assert verify_log(db, keys).ok
    only_new = verify_log(db, [new_signer.verifier])
    assert not only_new.ok and only_new.first_bad_index == 0 and "not signed by any known key" in only_new.message
    only_old = verify_log(db, [old_key])
    assert not only_old.ok and only_old.first_bad_index == 4


def test_rotate_key_command(db: Database, hook, add_entries, signer: Signer, settings: Settings) -> None:
    add_entries(2)
    env = {"VERIFIER_HOME": str(settings.home), "VERIFIER_DATABASE_URL": settings.database_url}
    runner = CliRunner()
    result = runner.invoke(audit, ["rotate-key"], env=env)
    assert result.exit_code == 0, result.output
    new_key = Signer.load(settings).verifier_key
    assert new_key in result.output and new_key != signer.verifier_key
    add_entries(2)
    verified = runner.invoke(audit, ["verify"], env=env)
    assert verified.exit_code == 0, verified.output
    printed = runner.invoke(audit, ["public-key"], env=env)
    assert printed.output.strip() == new_key
