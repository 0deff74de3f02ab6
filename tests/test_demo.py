"""`verifier init --demo` loads cases at every stage once, through the real services, and the log verifies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from verifier.accounts.auth import principal_of
from verifier.cases import service as cases
from verifier.cli import main
from verifier.context import Context
from verifier.sampling.models import SamplingRound
from verifier.settings import Settings
from verifier.store.tables import Case, User, Visit

ROOT = Path(__file__).resolve().parent.parent


def test_demo_loads_once_with_every_stage(tmp_path: Path, database_url: str) -> None:
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--demo", "--contracts", str(ROOT / "contracts")], env=env,
                          catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "密码 demo-pass-2020" in first.output
    second = runner.invoke(main, ["init", "--demo", "--contracts", str(ROOT / "contracts")], env=env)
    assert second.exit_code == 0 and "示范数据此前已载入" in second.output
    ctx = Context.open(Settings.from_env(env))
    try:
        with ctx.db.read() as session:
            by_status = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
            rounds = dict(session.execute(select(SamplingRound.status, SamplingRound.id)).tuples().all())
            picked = dict(session.execute(select(Visit.by_hand, func.count()).group_by(Visit.by_hand)).tuples().all())
            shown = cases.hand_picked_shares(session, principal_of(session.scalar(
                select(User).where(User.username == "supervisor"))), since=ctx.clock.today() - timedelta(days=365))
    finally:
        ctx.close()
    # Its sampling rounds went through commit, freeze and reveal: one drawn (and it replays), one still open.
    assert sorted(rounds) == ["drawn", "open"]
    replayed = runner.invoke(main, ["sampling", "replay", rounds["drawn"]], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert "县级复核方秘密值的哈希与承诺值相符" in replayed.output
    for stage in ("received", "screened", "scheduled", "checked", "determined", "ineligible", "in_notice",
                  "ready_to_pay", "in_batch", "paid", "payment_failed"):
        assert by_status.get(stage, 0) >= 1, (stage, by_status)
    assert runner.invoke(main, ["audit", "verify"], env=env).exit_code == 0
    # Visits are planned by the planner, as an office plans them; one was chosen by hand (with its reason), so the
    # supervisor's share of hand-picked visits is what it is, not 100%.
    assert picked.get(True) == 1 and picked.get(False, 0) >= 15, picked
    (share,) = shown
    assert share["by_hand"] == 1 and share["total"] == picked[True] + picked[False] and share["without_reason"] == 0
    assert share["share"] == f"{100 / share['total']:.1f}%"


def test_the_demo_minutes_scan_is_a_pdf_in_chinese(tmp_path: Path) -> None:
    """The stand-in for a meeting's signed minutes is a PDF whose text is Chinese (the reader's own Song face), not
    an English line: what a clerk opening it on the meeting's page sees."""
    import re
    import shutil
    import subprocess
    from datetime import date

    from verifier.checks.service import accepted_file
    from verifier.demo import _minutes_scan

    pdf = _minutes_scan("城关镇", "东村", date(2026, 11, 3))
    assert accepted_file(pdf, "application/pdf", 10**6)[0] == "application/pdf"
    assert b"/STSong-Light" in pdf and b"/UniGB-UCS2-H" in pdf
    assert "村级评议会会议记录".encode("utf-16-be").hex().upper().encode() in pdf
    assert not re.search(rb"village|meeting|signed", pdf, re.I)
    assert _minutes_scan("城关镇", "西村", date(2026, 11, 3)) != pdf  # one scan serves one meeting
    if shutil.which("pdftotext"):
        (tmp_path / "m.pdf").write_bytes(pdf)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "m.pdf"), "-"], capture_output=True,
                              check=True).stdout.decode()
        assert "城关镇东村村级评议会会议记录" in text and "一致同意" in text
