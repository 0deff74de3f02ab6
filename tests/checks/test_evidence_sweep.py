"""`verifier evidence sweep`: evidence files that no row names and that are over a day old are removed (a refused
meeting form's held scan never sent again, a failed save's file); a file a row names, or one written within the day
(a save in flight), never is. One audit entry with the count."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner
from sqlalchemy import select
from village_kit import minutes_scan, sealed

from verifier import evidence_sweep
from verifier.accounts.auth import principal_of
from verifier.audit.models import AuditEntry
from verifier.cases.service import active_visit
from verifier.checks import evidence_files
from verifier.checks.service import store_evidence
from verifier.cli import main
from verifier.notices import posting
from verifier.store.tables import User

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
TWO_DAYS = 2 * 24 * 3600


def _age(path: Path, seconds: float = TWO_DAYS) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _sweeps(ctx) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    with ctx.db.read() as session:
        return [json.loads(e.entry)["payload"] for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == evidence_sweep.ACTION).order_by(AuditEntry.idx))]


def _evidence_of_a_case(ctx) -> str:  # type: ignore[no-untyped-def]
    from factories import make_case

    case_id = make_case(ctx, stage="scheduled")
    with ctx.db.begin() as session:
        officer = principal_of(session.scalar(select(User).where(
            User.id == active_visit(session, case_id).officer_ids[0])))
        ev = store_evidence(session, case_id, data=PNG, declared_type="image/png",
                            evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                            max_bytes=ctx.settings.max_upload_bytes, principal=officer, clock=ctx.clock)
    return ev.sha256


def _held(ctx) -> Path:  # type: ignore[no-untyped-def]
    upload = sealed(ctx, minutes_scan())
    posting.hold(upload)  # a refused meeting form's scan: sealed, no row
    return evidence_files.path_of(ctx.settings.evidence_dir, upload.sha256)


def test_only_old_files_no_row_names_are_removed(ctx) -> None:  # type: ignore[no-untyped-def]
    store = ctx.settings.evidence_dir
    named = evidence_files.path_of(store, _evidence_of_a_case(ctx))
    old_held, young_held = _held(ctx), _held(ctx)
    leftover = old_held.parent / "tmpab12cd"  # an interrupted write's temporary file
    leftover.write_bytes(b"half")
    odd = named.parent / "README"  # not the store's: left alone
    odd.write_bytes(b"?")
    for path in (named, old_held, leftover, odd):
        _age(path)

    tried = evidence_sweep.sweep(ctx.db, store, clock=ctx.clock, dry_run=True)
    assert sorted(tried.files) == sorted([old_held, leftover])
    assert (tried.kept_referenced, tried.kept_young) == (1, 1)
    assert old_held.exists() and leftover.exists() and _sweeps(ctx) == []  # a dry run removes and audits nothing

    done = evidence_sweep.sweep(ctx.db, store, clock=ctx.clock)
    assert sorted(done.files) == sorted([old_held, leftover])
    assert not old_held.exists() and not leftover.exists()
    assert named.exists() and young_held.exists() and odd.exists()
    assert evidence_files.read(store, ctx.vault, named.name) == PNG  # the row's file still opens
    [entry] = _sweeps(ctx)
    assert entry["removed"] == 2 and entry["bytes"] == done.size > 0
    assert sorted(entry["files"]) == sorted([old_held.name, leftover.name])

    again = evidence_sweep.sweep(ctx.db, store, clock=ctx.clock)
    assert again.files == [] and _sweeps(ctx)[-1]["removed"] == 0


def test_a_held_scan_used_again_is_young_and_kept(ctx) -> None:  # type: ignore[no-untyped-def]
    """A meeting recorded days later with the held scan: its rows are not committed yet when the file is kept again
    (`Upload.keep`), which touches it, so a sweep meanwhile leaves it."""
    held = _held(ctx)
    _age(held)
    clerk, place = SimpleNamespace(id="clerk-1"), ("340223", "城关镇", "东村")
    token = posting.held_token(ctx.vault, clerk, place, held.name)  # type: ignore[arg-type]
    again = posting.reopen_held(held.name, token, principal=clerk, place=place,  # type: ignore[arg-type]
                                evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                                max_bytes=ctx.settings.max_upload_bytes)
    again.keep()  # with the meeting's rows, before their COMMIT
    swept = evidence_sweep.sweep(ctx.db, ctx.settings.evidence_dir, clock=ctx.clock)
    assert swept.files == [] and swept.kept_young == 1 and held.exists()


def test_a_file_written_while_the_rows_are_read_is_kept(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Listed as old and unnamed, the file is kept again (touched) by a save before the sweep removes it: each file
    is looked at again just before it goes."""
    held = _held(ctx)
    _age(held)
    asked = evidence_sweep.referenced

    def touched_meanwhile(session, hashes):  # type: ignore[no-untyped-def]
        found = asked(session, hashes)
        os.utime(held)  # `evidence_files.store` of a save whose row is not committed yet
        return found

    monkeypatch.setattr(evidence_sweep, "referenced", touched_meanwhile)
    swept = evidence_sweep.sweep(ctx.db, ctx.settings.evidence_dir, clock=ctx.clock)
    assert swept.files == [] and held.exists()
    assert _sweeps(ctx)[-1]["removed"] == 0


def test_a_row_committed_after_the_listing_keeps_the_file(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Listed as old and unnamed, the file is renamed aside and the rows asked again: a save that touched nothing
    (its file already old) but committed its row meanwhile keeps it, put back under its name."""
    held = _held(ctx)
    _age(held)
    asked, calls = evidence_sweep.referenced, []

    def committed_meanwhile(session, hashes):  # type: ignore[no-untyped-def]
        calls.append(sorted(hashes))
        found = asked(session, hashes)
        return found | ({held.name} if len(calls) > 1 else set())  # the row is there by the second asking

    monkeypatch.setattr(evidence_sweep, "referenced", committed_meanwhile)
    swept = evidence_sweep.sweep(ctx.db, ctx.settings.evidence_dir, clock=ctx.clock)
    assert calls == [[held.name], [held.name]]  # asked when listed, and again once renamed aside
    assert swept.files == [] and swept.kept_referenced == 1 and held.exists()
    assert not held.with_name(held.name + evidence_sweep.ASIDE).exists()
    assert evidence_files.read(ctx.settings.evidence_dir, ctx.vault, held.name) is not None
    assert _sweeps(ctx)[-1]["removed"] == 0


def test_a_save_while_the_file_is_aside_writes_it_anew_and_it_stays(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A save arriving once the file is renamed aside finds it absent and writes it again (`evidence_files.store`);
    the sweep then removes only the copy aside."""
    store_dir = ctx.settings.evidence_dir
    held = _held(ctx)
    plain = evidence_files.read(store_dir, ctx.vault, held.name)
    assert plain is not None
    _age(held)
    asked, calls = evidence_sweep.referenced, []

    def saved_meanwhile(session, hashes):  # type: ignore[no-untyped-def]
        calls.append(sorted(hashes))
        if len(calls) > 1:  # the re-check: the file is aside now, a save (row not committed yet) writes it anew
            assert not held.exists()
            evidence_files.store(store_dir, ctx.vault, plain, held.name)
        return asked(session, hashes)

    monkeypatch.setattr(evidence_sweep, "referenced", saved_meanwhile)
    evidence_sweep.sweep(ctx.db, store_dir, clock=ctx.clock)
    assert len(calls) == 2 and held.exists() and not held.with_name(held.name + evidence_sweep.ASIDE).exists()
    assert evidence_files.read(store_dir, ctx.vault, held.name) == plain
    # the next sweep finds it young: kept
    monkeypatch.setattr(evidence_sweep, "referenced", asked)
    again = evidence_sweep.sweep(ctx.db, store_dir, clock=ctx.clock)
    assert again.files == [] and held.exists()


def test_a_file_left_aside_by_an_interrupted_sweep_is_put_back(ctx) -> None:  # type: ignore[no-untyped-def]
    named = evidence_files.path_of(ctx.settings.evidence_dir, _evidence_of_a_case(ctx))
    aside = named.with_name(named.name + evidence_sweep.ASIDE)
    os.rename(named, aside)
    evidence_sweep.sweep(ctx.db, ctx.settings.evidence_dir, clock=ctx.clock)
    assert named.exists() and not aside.exists()
    assert evidence_files.read(ctx.settings.evidence_dir, ctx.vault, named.name) == PNG


def test_each_table_that_names_a_file_keeps_it() -> None:
    """Every stored file's row is asked about: a check's evidence, a village file, a meeting's minutes, a re-check's
    photo."""
    names = {f"{c.class_.__tablename__}.{c.key}" for c in evidence_sweep.REFERENCES}
    assert names == {"evidence.sha256", "village_file.sha256", "recheck_evidence.sha256",
                     "village_meeting.minutes_scan_sha256"}


def test_the_command_speaks_chinese_and_audits_once(tmp_path: Path, database_url: str) -> None:
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    root = Path(__file__).resolve().parents[2]
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--contracts", str(root / "contracts")], env=env).exit_code == 0
    store = tmp_path / "home" / "evidence"
    sha = hashlib.sha256(b"orphan").hexdigest()
    orphan = store / sha[:2] / sha
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"sealed bytes nobody names")
    _age(orphan)

    tried = runner.invoke(main, ["evidence", "sweep", "--dry-run"], env=env, catch_exceptions=False)
    assert tried.exit_code == 0, tried.output
    assert f"将删除：{orphan}" in tried.output and "可删除 1 个" in tried.output and "试运行" in tried.output
    assert orphan.exists()

    done = runner.invoke(main, ["evidence", "sweep"], env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert "已删除 1 个没有记录引用、超过 24 小时的证明材料文件" in done.output and not orphan.exists()
    assert not orphan.parent.exists()  # its empty folder too
    verified = runner.invoke(main, ["audit", "verify"], env=env, catch_exceptions=False)
    assert verified.exit_code == 0, verified.output
