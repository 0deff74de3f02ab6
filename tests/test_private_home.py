"""VERIFIER_HOME is private (0700 directories, 0600 files) after `init` and `serve`, and evidence is sealed at rest.

Reproduced before: the database file was mode 0644, readable by every account on the machine, and evidence photos
lay in clear under VERIFIER_HOME/evidence.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from verifier.accounts.auth import principal_of
from verifier.cases.service import active_visit
from verifier.checks import evidence_files
from verifier.checks.service import store_evidence
from verifier.cli import main
from verifier.store.home import sqlite_files
from verifier.store.tables import User
from verifier.store.vault import Vault

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def everything_under(home: Path) -> list[Path]:
    return [home, *sorted(home.rglob("*"))]


def assert_private(home: Path, database_url: str) -> None:
    for path in everything_under(home) + [p for p in sqlite_files(database_url) if p.exists()]:
        expected = 0o700 if path.is_dir() else 0o600
        assert mode(path) == expected, f"{path} is {oct(mode(path))}"


@pytest.fixture
def loose_umask():  # type: ignore[no-untyped-def]
    """A process umask that would leave files readable by everyone (the usual 022)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_init_creates_everything_private_and_tightens_what_was_there(tmp_path, database_url, loose_umask) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    env = {"VERIFIER_HOME": str(home), "VERIFIER_DATABASE_URL": database_url}
    result = run(env, "init", "--contracts", str(ROOT / "contracts"))
    assert result.exit_code == 0, result.output
    assert (home / "keys" / "data.key").is_file()
    assert_private(home, database_url)
    if database_url.startswith("sqlite"):  # the database (here outside the home) and its -wal and -shm
        assert mode(sqlite_files(database_url)[0]) == 0o600
    assert os.umask(0o022) == 0o022  # the command gave the process its umask back

    # A home from before this rule (or unpacked from a backup): loose modes, evidence in clear. init tightens all.
    vault = Vault.from_dir(home / "keys")
    sha = hashlib.sha256(PNG).hexdigest()
    plain = home / "evidence" / sha[:2] / sha
    plain.parent.mkdir(parents=True, exist_ok=True)
    plain.write_bytes(PNG)
    for path in everything_under(home) + [p for p in sqlite_files(database_url) if p.exists()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    assert evidence_files.read(home / "evidence", vault, sha) == PNG  # plain files are still read
    result = run(env, "init", "--contracts", str(ROOT / "contracts"))
    assert result.exit_code == 0 and "已加密 1 个原先以明文保存的证明材料文件" in result.output, result.output
    assert_private(home, database_url)
    on_disk = plain.read_bytes()
    assert on_disk.startswith(evidence_files.MAGIC) and PNG[16:80] not in on_disk
    assert evidence_files.read(home / "evidence", vault, sha) == PNG


def test_serve_makes_the_home_private_before_it_starts(tmp_path, database_url, loose_umask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    home = tmp_path / "home"
    env = {"VERIFIER_HOME": str(home), "VERIFIER_DATABASE_URL": database_url}
    assert run(env, "init", "--contracts", str(ROOT / "contracts")).exit_code == 0
    for path in everything_under(home) + [p for p in sqlite_files(database_url) if p.exists()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(app))
    result = run(env, "serve", "--port", "0")
    assert result.exit_code == 0, result.output
    assert len(started) == 1
    assert_private(home, database_url)


def _assigned_officer(ctx, case_id: str):  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        visit = active_visit(session, case_id)
        return principal_of(session.scalar(select(User).where(User.id == visit.officer_ids[0])))


def test_evidence_is_sealed_on_disk_and_downloads_as_the_exact_bytes(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from factories import make_case

    case_id = make_case(ctx, stage="scheduled")
    officer = _assigned_officer(ctx, case_id)
    with ctx.db.begin() as session:
        ev = store_evidence(session, case_id, data=PNG, declared_type="image/png", evidence_dir=ctx.settings.evidence_dir,
                            vault=ctx.vault, max_bytes=ctx.settings.max_upload_bytes, principal=officer,
                            clock=ctx.clock)
    sha = hashlib.sha256(PNG).hexdigest()
    assert ev.sha256 == sha  # the check references the plain file's hash
    path = ctx.settings.evidence_dir / sha[:2] / sha
    on_disk = path.read_bytes()
    assert on_disk != PNG and PNG[16:80] not in on_disk and not on_disk.startswith(b"\x89PNG")
    assert mode(path) == 0o600

    users.add("sup", "insurer_supervisor")
    r = client.get(f"/cases/{case_id}/evidence/{sha}", headers=users.headers("sup"))
    assert r.status_code == 200 and r.content == PNG and r.headers["content-type"] == "image/png"
    users.add("clerk", "town_clerk")
    assert client.get(f"/cases/{case_id}/evidence/{sha}", headers=users.headers("clerk")).status_code == 403

    # A sealed file is bound to its hash: put under another evidence's name, it is not served.
    other = PNG + b"\0"
    other_sha = hashlib.sha256(other).hexdigest()
    with ctx.db.begin() as session:
        store_evidence(session, case_id, data=other, declared_type="image/png", evidence_dir=ctx.settings.evidence_dir,
                       vault=ctx.vault, max_bytes=ctx.settings.max_upload_bytes, principal=officer, clock=ctx.clock)
    (ctx.settings.evidence_dir / other_sha[:2] / other_sha).write_bytes(on_disk)
    assert client.get(f"/cases/{case_id}/evidence/{other_sha}", headers=users.headers("sup")).status_code == 404
    # A plain file swapped in under a hash it does not have is not served either.
    (ctx.settings.evidence_dir / other_sha[:2] / other_sha).write_bytes(PNG)
    assert client.get(f"/cases/{case_id}/evidence/{other_sha}", headers=users.headers("sup")).status_code == 404
