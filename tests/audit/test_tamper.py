"""Rewrite the stored log behind its back with SQL; verification must catch it and name the first bad index."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.audit import merkle
from verifier.audit.canonical import encode_entry
from verifier.audit.checkpoints import Signer, install, known_keys
from verifier.audit.cli import audit, problem_zh
from verifier.audit.fastpass import Plan, fast_pass
from verifier.audit.notes import VerifierKey, sign_note
from verifier.audit.verify import verify_log
from verifier.clock import FixedClock
from verifier.settings import Settings
from verifier.store.db import Database

from tamper_helpers import copy_of_a_log, rewrite_tree, sql

SIZE = 20


def entry_bytes(db: Database, idx: int) -> tuple[bytes, bytes]:
    data, leaf = sql(db, "SELECT entry, leaf_hash FROM audit_entry WHERE idx = :i", i=idx)[0]
    return bytes(data), bytes(leaf)


def edit_entry(db: Database, *, leaf: bool = False, tree: bool = False) -> None:
    data, _ = entry_bytes(db, 7)
    forged = data.replace(b'"decision":"pass"', b'"decision":"fail"')
    assert forged != data
    sql(db, "UPDATE audit_entry SET entry = :e WHERE idx = 7", e=forged)
    if leaf or tree:
        sql(db, "UPDATE audit_entry SET leaf_hash = :h WHERE idx = 7", h=merkle.leaf_hash(forged))
    if tree:
        rewrite_tree(db)


def swap(db: Database) -> None:
    a, b = entry_bytes(db, 3), entry_bytes(db, 4)
    sql(db, "UPDATE audit_entry SET entry = :e, leaf_hash = :h WHERE idx = 3", e=b[0], h=b[1])
    sql(db, "UPDATE audit_entry SET entry = :e, leaf_hash = :h WHERE idx = 4", e=a[0], h=a[1])


def swap_unsigned(db: Database) -> None:
    """Swap entries 17 and 18, past the last checkpoint left, and recompute the tree: only the index written
    inside each entry shows it."""
    sql(db, "DELETE FROM audit_checkpoint WHERE tree_size > 16")
    a, b = entry_bytes(db, 17), entry_bytes(db, 18)
    sql(db, "UPDATE audit_entry SET entry = :e, leaf_hash = :h WHERE idx = 17", e=b[0], h=b[1])
    sql(db, "UPDATE audit_entry SET entry = :e, leaf_hash = :h WHERE idx = 18", e=a[0], h=a[1])
    rewrite_tree(db)


def truncate(db: Database, *, and_head: bool) -> None:
    sql(db, "DELETE FROM audit_entry WHERE idx >= 15")
    if and_head:
        rewrite_tree(db)


def insert_extra(db: Database, idx: int) -> None:
    data = encode_entry(index=idx, time="2020-06-03T09:00:00.000000Z", actor="u_x", role="admin",
                        action="case.pay", subject="case_x", contract_hash=None, payload={})
    sql(db, "INSERT INTO audit_entry (idx, time, actor, role, action, subject, contract_hash, entry, leaf_hash) "
            "VALUES (:i, CURRENT_TIMESTAMP, 'u_x', 'admin', 'case.pay', 'case_x', NULL, :e, :h)",
        i=idx, e=data, h=merkle.leaf_hash(data))


def forge_signature(db: Database) -> None:
    (note,) = sql(db, "SELECT note FROM audit_checkpoint WHERE tree_size = 12")[0]
    head, _, last = note.rpartition(" ")
    flipped = ("B" if last[10] == "A" else "A").join((last[:10], last[11:]))
    sql(db, "UPDATE audit_checkpoint SET note = :n WHERE tree_size = 12", n=f"{head} {flipped}")


def sign_with_another_key(db: Database) -> None:
    (note,) = sql(db, "SELECT note FROM audit_checkpoint WHERE tree_size = 12")[0]
    body = note.split("\n\n")[0] + "\n"
    origin = body.split("\n")[0]
    sql(db, "UPDATE audit_checkpoint SET note = :n WHERE tree_size = 12",
        n=sign_note(body, origin, Ed25519PrivateKey.generate()))


CASES: dict[str, tuple[Callable[[Database], None], int, str]] = {
    "entry bytes edited": (edit_entry, 7, "was changed"),
    "entry and leaf hash edited": (lambda db: edit_entry(db, leaf=True), 7, "does not match the entries"),
    "entry edited, whole tree recomputed": (lambda db: edit_entry(db, tree=True), 7, "rewritten, or the checkpoint forged"),
    "entry deleted": (lambda db: sql(db, "DELETE FROM audit_entry WHERE idx = 5"), 5, "entry 5 is missing"),
    "two entries swapped": (swap, 3, "moved or swapped"),
    "two unsigned entries swapped, tree recomputed": (swap_unsigned, 17, "entry 17 holds the entry written as index 18"),
    "tail truncated": (lambda db: truncate(db, and_head=False), 15, "truncated"),
    "tail truncated, head rewritten": (lambda db: truncate(db, and_head=True), 15, "truncated"),
    "checkpoint signature forged": (forge_signature, 11, "does not verify"),
    "checkpoint signed by another key": (sign_with_another_key, 11, "not signed by any known key"),
    "checkpoint root column changed": (
        lambda db: sql(db, "UPDATE audit_checkpoint SET root = :r WHERE tree_size = 12", r=bytes(32)), 11,
        "root differs from the stored root"),
    "extra entry appended": (lambda db: insert_extra(db, SIZE), SIZE, "beyond the log's head"),
    "extra entry far beyond": (lambda db: insert_extra(db, SIZE + 10), SIZE + 10, "beyond the log's head"),
    "interior node changed": (
        lambda db: sql(db, "UPDATE audit_node SET hash = :h WHERE level = 2 AND idx = 1", h=bytes(32)), 7,
        "node (level 2, index 1)"),
    "high interior node changed": (  # above the ranges of 4 in the plans below; no checkpoint after it
        lambda db: (sql(db, "DELETE FROM audit_checkpoint WHERE tree_size > 15"),
                    sql(db, "UPDATE audit_node SET hash = :h WHERE level = 4 AND idx = 0", h=bytes(32))), 15,
        "node (level 4, index 0)"),
    "interior node deleted": (
        lambda db: sql(db, "DELETE FROM audit_node WHERE level = 1 AND idx = 5"), 11, "lacks node (level 1, index 5)"),
    "head size changed": (lambda db: sql(db, "UPDATE audit_head SET size = 19"), 19, "beyond the log's head"),
}


@pytest.fixture
def full_log(db: Database, settings: Settings, clock: FixedClock,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """SIZE entries, one transaction each, with a signed checkpoint of the empty log and one after each commit
    (`build_log`, copied), and the checkpoint hook installed as the `hook` fixture leaves it."""
    installed = install(db, copy_of_a_log(db, settings, SIZE, tmp_path_factory), clock=clock)
    clock.advance(seconds=SIZE)  # where appending the entries a second apart leaves it, as if built in this test
    yield db
    installed.close()


@pytest.fixture
def signer(full_log: Database, settings: Settings) -> Signer:
    """The copied log's key, under this test's home."""
    return Signer.load(settings)


def trusted(db: Database) -> list[VerifierKey]:
    with db.read() as session:
        return known_keys(session)


# Ways the fast pass cuts the 20 entries: one range in one chunk (the default for a small log); ranges of
# 4 in chunks of 2, or one range of 32 in chunks of 4, all in this process; ranges of 4 in two worker
# processes. Checkpoints fall inside chunks, on their edges and on the ranges' edges.
PLANS = {
    "default": Plan(),
    "ranges of 4, chunks of 2": Plan(processes=1, chunk_levels=1, span_level=2),
    "one range, chunks of 4": Plan(processes=1, chunk_levels=2, span_level=5),
    "two processes": Plan(processes=2, chunk_levels=1, span_level=2, parallel_from=0),
}


def test_an_untouched_log_verifies(full_log: Database) -> None:
    result = verify_log(full_log, trusted(full_log))
    assert result.ok, result.message
    assert (result.entries, result.checkpoints) == (SIZE, SIZE + 1)
    assert result.processes == 1  # the fast pass said so, in this process
    assert verify_log(full_log, trusted(full_log), batch=3).ok
    sequential = verify_log(full_log, trusted(full_log), strict=True)
    assert sequential.ok and sequential.processes == 0
    assert (sequential.entries, sequential.checkpoints) == (SIZE, SIZE + 1)


@pytest.mark.parametrize("plan", list(PLANS))
def test_the_fast_pass_accepts_an_untouched_log(full_log: Database, plan: str) -> None:
    result = verify_log(full_log, trusted(full_log), plan=PLANS[plan], batch=3)
    assert result.ok, result.message
    assert (result.entries, result.checkpoints) == (SIZE, SIZE + 1)
    assert result.processes == PLANS[plan].processes


@pytest.mark.parametrize("batch", [2_000, 3])  # one fetch, and many fetches with the damage across their edges
@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_caught_at_the_first_bad_index(full_log: Database, case: str, batch: int) -> None:
    tamper, first_bad, message = CASES[case]
    tamper(full_log)
    result = verify_log(full_log, trusted(full_log), batch=batch)
    assert not result.ok
    assert message in result.message
    assert result.first_bad_index == first_bad, result.message
    said = problem_zh(result.message)  # what `audit verify` prints: in Chinese, each case by its own words
    assert said != problem_zh("") and not re.search(r"[A-Za-z]{2,}", re.sub(r"\b[0-9a-f]{8}\b|\S+/\S+", "", said)), said


IN_WORKERS = ("entry bytes edited", "entry deleted", "two unsigned entries swapped, tree recomputed",
              "tail truncated, head rewritten", "checkpoint signature forged", "interior node deleted")
"""The cases the two-process plan runs (the other plans run every case): a worker process runs the same checks of its
ranges as the fast pass in this process does, so these show each kind of damage (an entry, its order, the tail, a
checkpoint, the tree) found in a worker and reported back; each costs two new Python processes, and
tests/audit/test_fastpass.py has workers of their own (a larger log, a worker failing, a worker's range damaged)."""


@pytest.mark.parametrize(("case", "plan"), [(case, plan) for case in CASES for plan in PLANS
                                            if PLANS[plan].processes == 1 or case in IN_WORKERS])
def test_the_fast_pass_notices_tampering(full_log: Database, case: str, plan: str,
                                         caplog: pytest.LogCaptureFixture) -> None:
    """The fast pass itself must see each change (it only says "not intact"; the sequential pass names it)."""
    caplog.set_level(logging.WARNING)
    tamper, first_bad, _ = CASES[case]
    tamper(full_log)
    assert fast_pass(full_log, trusted(full_log), PLANS[plan], batch=3) is None
    result = verify_log(full_log, trusted(full_log), plan=PLANS[plan])
    assert (result.ok, result.first_bad_index, result.processes) == (False, first_bad, 0)
    assert not caplog.records  # no worker failed: they found the change


def test_a_corrupted_head_is_caught(full_log: Database) -> None:
    sql(full_log, "UPDATE audit_head SET compact = :c", c=bytes(64))
    result = verify_log(full_log, trusted(full_log))
    assert not result.ok and "compact range" in result.message
    for plan in PLANS.values():
        assert fast_pass(full_log, trusted(full_log), plan, batch=3) is None


def test_verify_command(full_log: Database, settings: Settings, signer: Signer) -> None:
    env = {"VERIFIER_HOME": str(settings.home), "VERIFIER_DATABASE_URL": settings.database_url}
    runner = CliRunner()
    ok = runner.invoke(audit, ["verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert f"审计日志完整：共 {SIZE} 条记录" in ok.output
    assert runner.invoke(audit, ["verify", "--key", signer.verifier_key], env=env).exit_code == 0
    assert runner.invoke(audit, ["verify", "--processes", "1"], env=env).exit_code == 0
    refused = runner.invoke(audit, ["verify", "--processes", "0"], env=env)
    assert refused.exit_code == 2 and "--processes" in refused.output

    stranger = VerifierKey.from_public_key(settings.log_name, Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    wrong_key = runner.invoke(audit, ["verify", "--key", str(stranger)], env=env)
    assert wrong_key.exit_code == 1 and "第一条有问题的记录序号为 0" in wrong_key.output

    edit_entry(full_log)
    bad = runner.invoke(audit, ["verify"], env=env)
    assert bad.exit_code == 1
    assert "第一条有问题的记录序号为 7" in bad.output and "第 7 条记录被改动过" in bad.output
