"""`verifier registers import` on the command line records the import as `cli:<operator>`, an account of no one: the
operator who also holds a county reviewer's account could import there and confirm on the page alone (the second
person's check compares accounts). As the roster's command-line import (`roster import`), it serves only a county
being set up: once the county has an active county reviewer (of it, or of every county), refused in Chinese (import
on the page as a county reviewer, another confirms), nothing written."""

from __future__ import annotations

from click.testing import CliRunner
from roster_kit import county_being_set_up
from sqlalchemy import func, select, update

from verifier import demo
from verifier.audit.models import AuditEntry
from verifier.registers.models import RegisterEntry, RegisterImport
from verifier.store.tables import User

COUNTY = "340223"


def _imports(ctx) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return (session.scalar(select(func.count()).select_from(RegisterImport)) or 0,
                session.scalar(select(func.count()).select_from(RegisterEntry)) or 0,
                session.scalar(select(func.count()).where(AuditEntry.action == "registers.import")) or 0)


def test_the_command_line_imports_a_register_only_for_a_county_without_a_reviewer(ctx, users, tmp_path,
                                                                                  monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from verifier.cli import main

    county_being_set_up(ctx)
    monkeypatch.setenv("VERIFIER_HOME", str(ctx.settings.home))
    monkeypatch.setenv("VERIFIER_DATABASE_URL", ctx.settings.database_url)
    runner = CliRunner()
    path = tmp_path / "车辆.csv"
    path.write_text(f"证件号码,号牌号码,车辆价值\n{demo.new_household('城关镇', '东村').id_numbers[0]},皖A12345,180000.00\n",
                    encoding="utf-8")
    args = ["registers", "import", str(path), "--kind", "vehicle", "--county", COUNTY]
    for name, counties in (("rev", (COUNTY,)), ("everywhere", ())):
        uid = users.add(name, "county_reviewer", counties=counties)
        refused = runner.invoke(main, args)
        assert refused.exit_code == 1 and "未导入任何内容" in refused.output, refused.output
        assert "已有在用的县级复核员" in refused.output and "“导入部门比对名单”页" in refused.output, refused.output
        assert "另一名县级复核员确认" in refused.output, refused.output
        assert _imports(ctx) == (0, 0, 0)
        with ctx.db.begin() as session:  # a disabled reviewer does not count
            session.execute(update(User).where(User.id == uid).values(active=False))
    # Another county's reviewer does not make this county one with a reviewer.
    users.add("far", "county_reviewer", counties=("340999",))
    done = runner.invoke(main, args)
    assert done.exit_code == 0 and "待确认" in done.output and "命令行不能确认" in done.output, done.output
    assert _imports(ctx) == (1, 1, 1)
    with ctx.db.read() as session:
        assert session.scalar(select(RegisterImport.imported_by)).startswith("cli:")
