"""A county's list of towns and villages: imported once from its file (all or nothing, every bad row in Chinese,
the same file again changes nothing), grown on purpose, and checked on applications and referral files."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from factories import count_rows, new_id_number, staff
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.cli import main
from verifier.domain.errors import NotFound, ValidationFailed
from verifier.places import county_file
from verifier.places import service as places
from verifier.places.models import Place
from verifier.referrals.service import enter_application, import_file
from verifier.store.tables import Case

LIST_CSV = "乡镇,村\n河口镇,河口村\n河口镇,柳树村\n城关镇,东村\n\n城关镇,西村\n".encode("utf-8")


def _import(ctx, data: bytes = LIST_CSV, name: str = "list.csv", county: str = "340223"):  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        return county_file.import_places(session, county, data, name, clock=ctx.clock)


def test_import_once_and_again_changes_nothing(ctx) -> None:  # type: ignore[no-untyped-def]
    first = _import(ctx)
    assert (first.added, first.already) == (4, 0)
    audit_entries = count_rows(ctx, AuditEntry)
    again = _import(ctx)
    assert (again.added, again.already) == (0, 4)
    assert count_rows(ctx, Place) == 4 and count_rows(ctx, AuditEntry) == audit_entries  # nothing written, nothing logged
    with ctx.db.read() as session:
        found = places.place_list(session, "340223")
        assert found.towns == {"城关镇": ["东村", "西村"], "河口镇": ["柳树村", "河口村"]}
        assert not places.place_list(session, "340224").exists


def test_an_xlsx_in_gbk_free_form_with_every_bad_row_reported_in_chinese_stores_nothing(ctx) -> None:  # type: ignore[no-untyped-def]
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["序号", "乡镇", "村"], [1, "河口镇", "河口村"], [2, "", "柳树村"], [3, "河口镇", None],
                [4, "河口镇", "村" * 101]):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ValidationFailed) as info:
        _import(ctx, out.getvalue(), "list.xlsx")
    messages = [e.message for e in info.value.errors]
    assert messages == ["第 3 行：缺少乡镇名称", "第 4 行：缺少村名称", "第 5 行：村名称超过 100 个字"]
    assert [e.row for e in info.value.errors] == [3, 4, 5]
    assert count_rows(ctx, Place) == 0
    # A GBK csv (as Excel on Chinese Windows saves it) reads the same as UTF-8.
    assert _import(ctx, LIST_CSV.decode("utf-8").encode("gbk")).added == 4
    with pytest.raises(ValidationFailed) as info:
        _import(ctx, "名称,地址\n河口镇,河口村\n".encode("utf-8"))
    assert "表头" in info.value.errors[0].message


def test_a_village_not_on_the_list_is_refused_naming_it(ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    application = {"county_code": "340223", "id_number": new_id_number(), "name": "张三", "town": "河口镇",
                   "village": "河口材", "household_group": "low_income", "cause": "illness", "amount": "9000",
                   "referred_on": "2020-05-30"}
    with ctx.db.begin() as session:  # no list yet: free text, as before
        enter_application(session, vault=ctx.vault, payload=application, principal=s.clerk, clock=ctx.clock)
    _import(ctx)
    cases = count_rows(ctx, Case)
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        enter_application(session, vault=ctx.vault, payload={**application, "id_number": new_id_number()},
                          principal=s.clerk, clock=ctx.clock)
    (error,) = info.value.errors
    assert error.field == "village" and "“河口材”不是河口镇的村" in error.message
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        enter_application(session, vault=ctx.vault, payload={**application, "town": "河囗镇", "village": "河口村",
                                                            "id_number": new_id_number()},
                          principal=s.clerk, clock=ctx.clock)
    assert info.value.errors[0].field == "town" and "“河囗镇”不是本县名单上的乡镇" in info.value.errors[0].message
    assert count_rows(ctx, Case) == cases
    with ctx.db.begin() as session:
        enter_application(session, vault=ctx.vault, payload={**application, "village": "河口村",
                                                            "id_number": new_id_number()},
                          principal=s.clerk, clock=ctx.clock)
    assert count_rows(ctx, Case) == cases + 1


def test_a_referral_file_naming_an_unknown_village_is_refused_with_each_row(ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    _import(ctx)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期"])
    for town, village in (("河口镇", "河口村"), ("河口镇", "河口材"), ("城关镇", "柳树村"), ("城关镇", "东村")):
        ws.append([new_id_number(), "王五", town, village, "非贫低收入户", "因病", 30000, date(2020, 5, 1)])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        import_file(session, vault=ctx.vault, source=io.BytesIO(out.getvalue()), filename="f.xlsx",
                    channel="civil_affairs", county_code="340223", principal=s.supervisor, role="insurer_supervisor",
                    clock=ctx.clock)
    assert [(e.row, e.field) for e in info.value.errors] == [(3, "village"), (4, "village")]
    assert "“河口材”不是河口镇的村" in info.value.errors[0].message
    assert "“柳树村”不是城关镇的村" in info.value.errors[1].message
    assert count_rows(ctx, Case) == 0


def test_adding_a_village_is_for_an_admin_or_supervisor_of_the_county_and_is_audited(ctx, users) -> None:  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import principal_of
    from verifier.domain.errors import Forbidden
    from verifier.store.tables import User

    s = staff(ctx)
    other = staff(ctx, county="340224")
    with pytest.raises(Forbidden), ctx.db.begin() as session:
        places.add_place(session, "340223", "河口镇", "新村", principal=s.clerk, clock=ctx.clock)
    with pytest.raises(NotFound), ctx.db.begin() as session:
        places.add_place(session, "340223", "河口镇", "新村", principal=other.supervisor, clock=ctx.clock)
    with ctx.db.begin() as session:
        place = places.add_place(session, "340223", " 河口镇", "新村 ", principal=s.supervisor, clock=ctx.clock)
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        places.add_place(session, "340223", "河口镇", "新村", principal=s.supervisor, clock=ctx.clock)
    assert "已在河口镇的名单上" in info.value.errors[0].message
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "place.add")).one()
        assert entry.subject == place.id and entry.actor == s.supervisor.id
        assert places.place_list(session, "340223").towns == {"河口镇": ["新村"]}
    users.add("admin1", "admin")
    with ctx.db.begin() as session:
        admin = principal_of(session.scalar(select(User).where(User.username == "admin1")))
        places.add_place(session, "340224", "青山乡", "石桥村", principal=admin, clock=ctx.clock)
    assert count_rows(ctx, Place) == 2


def test_the_command_imports_once_and_lists_every_bad_row_in_chinese(tmp_path: Path, ctx) -> None:  # type: ignore[no-untyped-def]
    env = {"VERIFIER_HOME": str(ctx.settings.home), "VERIFIER_DATABASE_URL": str(ctx.db.engine.url.render_as_string(
        hide_password=False))}
    good = tmp_path / "list.csv"
    good.write_bytes(LIST_CSV)
    bad = tmp_path / "bad.csv"
    bad.write_bytes("乡镇,村\n河口镇,\n,东村\n".encode("utf-8"))
    runner = CliRunner()
    refused = runner.invoke(main, ["places", "import", str(bad), "--county", "340223"], env=env)
    assert refused.exit_code == 1
    assert "有 2 处问题，未导入任何内容" in refused.output
    assert "第 2 行：缺少村名称" in refused.output and "第 3 行：缺少乡镇名称" in refused.output
    first = runner.invoke(main, ["places", "import", str(good), "--county", "340223"], env=env)
    assert first.exit_code == 0 and "新增 4 个村" in first.output, first.output
    second = runner.invoke(main, ["places", "import", str(good), "--county", "340223"], env=env)
    assert second.exit_code == 0 and "都已在名单上，没有更改" in second.output
    assert count_rows(ctx, Place) == 4
