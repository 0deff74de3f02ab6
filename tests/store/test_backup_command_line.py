"""`verifier backup` / `verifier restore` on the command line, as the README gives them, on a demo home and its
embedded database: the backup, a restore checked against a checkpoint taken before it, a restore into a home in use
refused, and the restored log verified. It reaches no database under test, so it runs in the SQLite pass only
(test_backup_restore.py covers PostgreSQL)."""

from __future__ import annotations

from click.testing import CliRunner
from cli_kit import init_home

from verifier.cli import main


def test_the_command_line_backs_up_and_restores_a_demo_home(tmp_path, monkeypatch, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """The commands as the README gives them, on the embedded database (test_backup_restore covers PostgreSQL)."""
    runner = CliRunner()
    home = tmp_path / "home"
    monkeypatch.delenv("VERIFIER_DATABASE_URL", raising=False)
    monkeypatch.setenv("VERIFIER_HOME", str(home))
    init_home({"VERIFIER_HOME": str(home)}, tmp_path_factory, "--demo")  # verifier init --demo (a copy of one)
    cp = runner.invoke(main, ["audit", "checkpoint"])
    assert cp.exit_code == 0, cp.output
    (tmp_path / "cp.txt").write_text(cp.output, "utf-8")
    made = runner.invoke(main, ["backup", str(tmp_path / "b")])
    assert made.exit_code == 0 and "请与数据分开保管" in made.output, made.output

    monkeypatch.setenv("VERIFIER_HOME", str(tmp_path / "home2"))
    done = runner.invoke(main, ["restore", str(tmp_path / "b"), "--since", str(tmp_path / "cp.txt")])
    assert done.exit_code == 0 and "一致性证明已核对" in done.output, done.output
    again = runner.invoke(main, ["restore", str(tmp_path / "b")])
    assert again.exit_code == 1 and "empty home" in again.output
    verify = runner.invoke(main, ["audit", "verify"])
    assert verify.exit_code == 0 and "审计日志完整" in verify.output, verify.output
