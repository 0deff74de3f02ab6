"""The last checkpoint the key signed, kept beside the key: whoever writes the database but cannot read the keys
directory can no longer rewrite history and have the genuine key sign it. Both databases."""

from __future__ import annotations

import json
import logging
import stat

import pytest
from click.testing import CliRunner

from verifier.audit import lastsigned, log
from verifier.audit.checkpoints import Signer, install, issue_checkpoint
from verifier.audit.cli import audit
from verifier.audit.lastsigned import SAVED_FILE, SigningRefused, read_saved
from verifier.audit.verify import verify_log
from verifier.clock import FixedClock
from verifier.settings import Settings
from verifier.store.db import Database

from tamper_helpers import append_entries, sql
import test_tamper
from test_tamper import SIZE, edit_entry, truncate

full_log = test_tamper.full_log  # the tamper tests' log of SIZE entries, and its key
signer = test_tamper.signer


def _env(settings: Settings) -> dict[str, str]:
    return {"VERIFIER_HOME": str(settings.home), "VERIFIER_DATABASE_URL": settings.database_url}


def test_a_rewritten_log_is_not_signed_and_verify_says_so(full_log, signer, settings, clock, caplog) -> None:
    db = full_log
    assert verify_log(db, [signer.verifier], last_signed=read_saved(settings.keys_dir)).ok
    saved = read_saved(settings.keys_dir)
    assert saved is not None and saved.tree_size == SIZE
    edit_entry(db, tree=True)  # entry 7 rewritten, leaf, nodes and head recomputed
    sql(db, "DELETE FROM audit_checkpoint")  # the checkpoints that would contradict it

    with pytest.raises(SigningRefused, match="differs from the last checkpoint"):
        issue_checkpoint(db, Signer.load(settings), clock=clock)
    assert sql(db, "SELECT count(*) FROM audit_checkpoint")[0][0] == 0
    assert read_saved(settings.keys_dir) == saved

    # The next user action: its write commits, the hook refuses to sign and says why in the log.
    with caplog.at_level(logging.ERROR, logger="verifier.audit.checkpoints"):
        append_entries(db, clock, 1)
    assert sql(db, "SELECT count(*) FROM audit_entry")[0][0] == SIZE + 1  # the write was kept
    assert sql(db, "SELECT count(*) FROM audit_checkpoint")[0][0] == 0
    assert any("NOT signed" in r.getMessage() and "does not extend" in r.getMessage() for r in caplog.records)

    assert verify_log(db, [signer.verifier]).ok  # the log alone looks intact: this is what the file adds
    result = verify_log(db, [signer.verifier], last_signed=read_saved(settings.keys_dir))
    assert not result.ok and result.first_bad_index is None and "does not extend" in result.message
    out = CliRunner().invoke(audit, ["verify", "--key", signer.verifier_key], env=_env(settings))
    assert out.exit_code == 1
    assert "与密钥目录中保存的最后一个签名检查点不符" in out.output
    assert f"长度 {SIZE + 1} 的日志不是签名密钥最后签过的检查点（{SIZE} 条）的延续" in out.output


def test_the_same_size_with_another_root_is_refused(full_log, signer, settings, clock) -> None:
    edit_entry(full_log, tree=True)
    sql(full_log, "DELETE FROM audit_checkpoint")
    with pytest.raises(SigningRefused, match=f"root at size {SIZE} differs"):
        issue_checkpoint(full_log, signer, clock=clock)
    out = CliRunner().invoke(audit, ["verify"], env=_env(settings))
    assert out.exit_code == 1 and f"日志长度 {SIZE} 时的根哈希与签名密钥最后签过的检查点不同" in out.output


def test_a_log_rolled_back_is_refused(full_log, signer, settings, clock) -> None:
    truncate(full_log, and_head=True)
    sql(full_log, "DELETE FROM audit_checkpoint")
    with pytest.raises(SigningRefused, match="fewer than the"):
        issue_checkpoint(full_log, signer, clock=clock)


def test_an_honest_log_keeps_signing_and_saving(full_log, signer, settings, clock) -> None:
    append_entries(full_log, clock, 3)  # the hook signs after each commit
    saved = read_saved(settings.keys_dir)
    assert saved is not None and saved.tree_size == SIZE + 3
    stored = sql(full_log, "SELECT root, note FROM audit_checkpoint WHERE tree_size = :s", s=SIZE + 3)[0]
    assert (bytes(stored[0]), stored[1]) == (saved.root, saved.note)
    path = settings.keys_dir / SAVED_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in settings.keys_dir.iterdir() if p.name.startswith(f".{SAVED_FILE}")] == []
    assert issue_checkpoint(full_log, signer, clock=clock).tree_size == SIZE + 3  # the same head again: fine
    assert verify_log(full_log, [signer.verifier], last_signed=saved).ok
    out = CliRunner().invoke(audit, ["verify"], env=_env(settings))
    assert out.exit_code == 0, out.output


def test_a_home_without_the_file_signs_and_starts_saving(full_log, signer, settings, clock) -> None:
    (settings.keys_dir / SAVED_FILE).unlink()  # a home from before the file
    append_entries(full_log, clock, 1)
    saved = read_saved(settings.keys_dir)
    assert saved is not None and saved.tree_size == SIZE + 1


def test_a_fresh_log_starts_saving(db: Database, settings: Settings, clock: FixedClock) -> None:
    with db.begin() as session:
        log.ensure_head(session)
    fresh = Signer.load(settings, create=True)  # (this module's `signer` fixture is the copied log's)
    issue_checkpoint(db, fresh, clock=clock)
    saved = read_saved(settings.keys_dir)
    assert saved is not None and saved.tree_size == 0  # the empty log's checkpoint
    hook = install(db, fresh, clock=clock)
    try:
        append_entries(db, clock, 2)
    finally:
        hook.close()
    assert read_saved(settings.keys_dir).tree_size == 2  # type: ignore[union-attr]


def test_a_damaged_file_stops_signing(full_log, signer, settings, clock) -> None:
    path = settings.keys_dir / SAVED_FILE
    doc = json.loads(path.read_text())
    doc["tree_size"] = 3  # no longer what its note says
    path.write_text(json.dumps(doc))
    with pytest.raises(RuntimeError, match="unreadable"):
        issue_checkpoint(full_log, signer, clock=clock)
    assert lastsigned.LastSigned.from_note(doc["note"]).tree_size == SIZE


def test_a_new_key_does_not_sign_a_rewritten_log_either(full_log, signer, settings) -> None:
    edit_entry(full_log, tree=True)
    sql(full_log, "DELETE FROM audit_checkpoint")
    out = CliRunner().invoke(audit, ["rotate-key"], env=_env(settings))
    assert out.exit_code != 0 and "拒绝签名检查点" in out.output and "记录被改写" in out.output, out.output
    assert sql(full_log, "SELECT count(*) FROM audit_checkpoint")[0][0] == 0


def test_a_request_for_a_checkpoint_of_a_rewritten_log_is_refused_in_chinese(full_log, settings) -> None:  # type: ignore[no-untyped-def]
    """The API's checkpoint (and a sampling round's) asks the signer as the hook does: refused, it answers 409 in
    Chinese, not an error of the server."""
    from verifier.audit.service import checkpoint_text
    from verifier.domain.errors import InvalidState

    edit_entry(full_log, tree=True)
    sql(full_log, "DELETE FROM audit_checkpoint")
    with pytest.raises(InvalidState, match="拒绝签署新的检查点"):
        checkpoint_text(full_log, Signer.load(settings))
