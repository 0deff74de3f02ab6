"""Other agencies' registers: imported all or nothing by the county, every member of every checked household matched
against every register in force, and each finding answered by another supervisor before the determination."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

import register_kit
from factories import staff
from verifier import demo
from verifier.audit.models import AuditEntry
from verifier.checks import service as checks
from verifier.domain.errors import Forbidden, InvalidState
from verifier.registers import feeds, service
from verifier.registers.models import RegisterEntry, RegisterFinding, RegisterImport
from verifier.store.tables import Case, Determination

COUNTY = "340223"


def csv_bytes(header: str, rows: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def post_register(client, headers, data: bytes, kind: str, name: str = "名单.csv", county: str = COUNTY, **extra):  # type: ignore[no-untyped-def]
    return client.post("/api/registers/imports", files={"file": (name, data, "application/octet-stream")},
                       data={"county_code": county, "kind": kind, **extra}, headers=headers)


def count(ctx, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def household_at(ctx, stage: str, members: int = 3):  # type: ignore[no-untyped-def]
    s = staff(ctx)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", "东村", members=members)
    case_id = demo.refer(ctx, team, hh, referred_on=ctx.clock.today() - timedelta(days=3))
    if stage != "received":
        demo.advance_to(ctx, team, case_id, hh, stage, on=ctx.clock.today(), vehicle="车001")
    return team, hh, case_id


def test_a_vehicle_register_in_gbk_is_imported_sealed_once_and_only_by_the_county(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=("340224",))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off", "field_officer", counties=(COUNTY,))
    _, hh, _ = household_at(ctx, "received")
    data = csv_bytes("序号,姓名,身份证号码,号牌号码,车辆类型,车辆价值",
                     [f"1,甲,{hh.id_numbers[0]},皖B12345,小型轿车,158000.00",
                      f"2,乙,{hh.id_numbers[1]},皖B54321,摩托车,6000"], encoding="gbk")
    for who, status in (("sup", 403), ("off", 403), ("rev2", 404)):
        assert post_register(client, users.headers(who), data, "vehicle").status_code == status
    r = post_register(client, users.headers("rev"), data, "vehicle", bureau="县公安局交警大队", as_of="2020-05-31")
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 2 and not r.json()["repeated"]
    again = post_register(client, users.headers("rev"), data, "vehicle")
    assert again.status_code == 201 and again.json() == {**r.json(), "repeated": True}
    assert r.json()["status"] == "pending"  # a proposal until a second county reviewer confirms it
    assert count(ctx, RegisterImport) == 1 and count(ctx, RegisterEntry) == 2
    with ctx.db.read() as session:
        imp = session.scalar(select(RegisterImport))
        assert (imp.bureau, imp.as_of, imp.valid_until) == ("县公安局交警大队", date(2020, 5, 31), date(2020, 8, 29))
        entry = session.scalar(select(RegisterEntry).order_by(RegisterEntry.row))
        assert hh.id_numbers[0].encode() not in entry.id_number_enc
        assert ctx.vault.open(entry.id_number_enc, "register_entry.id_number") == hh.id_numbers[0]
        assert entry.amount == 15_800_000 and entry.facts == {"plate": "皖B12345", "vehicle_type": "小型轿车"}
        logged = session.scalars(select(AuditEntry.action).where(AuditEntry.action == "registers.import")).all()
        assert len(logged) == 1
    listed = client.get("/api/registers/imports", headers=users.headers("sup")).json()
    assert [i["kind"] for i in listed] == ["vehicle"]
    assert client.get("/api/registers/imports", headers=users.headers("rev2")).json() == []


def test_every_bad_row_is_reported_and_nothing_is_stored(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    _, hh, _ = household_at(ctx, "received")
    data = csv_bytes("身份证号,企业名称,注册资本,职务",
                     [f"{hh.id_numbers[0]},某某商贸有限公司,500000.00,法定代表人",
                      "340223197013011234,某厂,100000,股东",
                      f"{hh.id_numbers[1]},,abc,股东"])
    r = post_register(client, users.headers("rev"), data, "business")
    assert r.status_code == 422
    bad = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert bad == {(3, "id_number"), (4, "company"), (4, "capital")}
    missing = post_register(client, users.headers("rev"), csv_bytes("身份证号,注册资本", [f"{hh.id_numbers[0]},1"]),
                            "business")
    assert missing.status_code == 422 and [e["field"] for e in missing.json()["errors"]] == ["company"]
    assert count(ctx, RegisterImport) == 0 and count(ctx, RegisterEntry) == 0


def test_the_command_line_imports_an_xlsx_of_assets(ctx, tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    from roster_kit import county_being_set_up

    from verifier.cli import main

    county_being_set_up(ctx)  # the command line imports only for a county without a reviewer (test_cli_register_import)

    wb = Workbook()
    wb.active.append(["证件号码", "存款余额", "截至日期", "金融机构"])
    wb.active.append([demo.new_household("城关镇", "东村").id_numbers[0], "250000.00", "2020-05-31", "农商行"])
    path = tmp_path / "存款.xlsx"
    wb.save(path)
    env = {"VERIFIER_HOME": str(ctx.settings.home), "VERIFIER_DATABASE_URL": database_url}
    args = ["registers", "import", str(path), "--kind", "assets", "--county", COUNTY, "--as-of", "2020-05-31",
            "--valid-until", "2020-12-31"]
    first = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "待确认" in first.output and "命令行不能确认" in first.output, first.output  # a proposal, said so
    with ctx.db.read() as session:
        assert session.scalar(select(RegisterImport.status)) == "pending"
    second = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert "没有更改" in second.output and "仍待县级复核员确认" in second.output
    bad = tmp_path / "坏.csv"
    bad.write_text("证件号码,存款余额,截至日期,金融机构\n123,250000.00,2020-05-31,农商行\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["registers", "import", str(bad), "--kind", "assets", "--county", COUNTY],
                                 env=env)
    assert refused.exit_code == 1 and "未导入任何内容" in refused.output and "第 2 行，“身份证号”列" in refused.output, \
        refused.output
    with ctx.db.read() as session:
        entry = session.scalar(select(RegisterEntry))
        assert entry.amount == 25_000_000 and entry.facts["institution"] == "农商行"


def record(ctx, team, hh, case_id, *, medical: int = 3_000_000, cross_checks=()):  # type: ignore[no-untyped-def]
    from verifier.domain.income import HouseholdIncome, RigidExpenditure

    relations = ["head", "spouse", "child"]
    with ctx.db.begin() as session:
        checks.record_check(session, case_id, checks.CheckInput(
            visited_on=ctx.clock.today(), officers=[team.officer1.id, team.officer2.id],
            members=[{"name": f"{hh.head}{i}" if i else hh.head, "id_number": idn, "relation": relations[i],
                      "labour": "full"} for i, idn in enumerate(hh.id_numbers)],
            income=HouseholdIncome(wages=100_000), rigid=RigidExpenditure(medical_self_paid=medical),
            stable_income=False, payee=None, evidence=[], note="", cross_checks=list(cross_checks)),
            vault=ctx.vault, principal=team.officer1, clock=ctx.clock)


def import_(ctx, kind: str, header: str, rows: list[str], **kw):  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import Principal

    reviewer = Principal(id="rev-test", username="rev", display_name="rev", roles=("county_reviewer",),
                         counties=(COUNTY,))
    result = service.import_register(ctx.db, vault=ctx.vault, data=csv_bytes(header, rows), filename=f"{kind}.csv",
                                     kind=kind, county_code=COUNTY, principal=reviewer, clock=ctx.clock,
                                     limits=ctx.settings.imports, **kw)
    register_kit.confirm(ctx, result.import_id, COUNTY)  # in force once a second county reviewer confirms it
    return result


def test_findings_hold_the_determination_until_another_supervisor_answers_them(ctx) -> None:  # type: ignore[no-untyped-def]
    team, hh, case_id = household_at(ctx, "scheduled")
    head, spouse, child = hh.id_numbers
    import_(ctx, "vehicle", "身份证号,号牌号码,车辆价值", [f"{spouse},皖B11111,30000.00"])
    import_(ctx, "public_employment", "身份证号,工作单位,入职日期", [f"{child},县人民医院,2019-09-01"])
    import_(ctx, "medical", "参保人身份证号,结算日期,总费用,统筹支付",
            [f"{head},2020-03-02,30000.00,20000.00", f"{head},2020-04-02,8000.00,6000.00"])  # self-paid 12,000
    # out of force: expired before today
    import_(ctx, "assets", "身份证号,金额", [f"{head},900000.00"], as_of=date(2019, 1, 1),
            valid_until=date(2019, 12, 31))
    record(ctx, team, hh, case_id, medical=4_200_000)
    with ctx.db.read() as session:
        found = {(f.kind, f.effect, f.member_name != "") for f in service.case_findings(session, case_id)}
    assert found == {("vehicle", "explain", True), ("public_employment", "excludes", True), ("medical", "explain", True)}

    with ctx.db.begin() as session, pytest.raises(InvalidState):
        checks.determine(session, case_id, confirm=True, principal=team.supervisor, clock=ctx.clock)

    # A supervisor who was also an officer of the check may not answer its findings.
    from verifier.accounts.auth import Principal
    both = Principal(id=team.officer1.id, username="x", display_name="x",
                     roles=("field_officer", "insurer_supervisor"), counties=(COUNTY,))
    with ctx.db.read() as session:
        ids = {f.kind: f.id for f in service.case_findings(session, case_id)}
    with ctx.db.begin() as session, pytest.raises(Forbidden):
        service.answer_finding(session, ids["vehicle"], outcome="explained", note="已卖出", principal=both,
                               clock=ctx.clock)
    other = Principal(id="sup-other", username="y", display_name="y", roles=("insurer_supervisor",),
                      counties=("340224",))
    from verifier.domain.errors import NotFound
    with ctx.db.begin() as session, pytest.raises(NotFound):
        service.answer_finding(session, ids["vehicle"], outcome="explained", note="已卖出", principal=other,
                               clock=ctx.clock)
    from verifier.domain.errors import ValidationFailed
    with ctx.db.begin() as session, pytest.raises(ValidationFailed):
        service.answer_finding(session, ids["vehicle"], outcome="explained", note=" ", principal=team.supervisor,
                               clock=ctx.clock)
    with ctx.db.begin() as session:
        for kind in ("vehicle", "medical"):
            service.answer_finding(session, ids[kind], outcome="explained", note="旧车已报废；另有住院票据",
                                   principal=team.supervisor, clock=ctx.clock)
        service.answer_finding(session, ids["public_employment"], outcome="upheld", note="",
                               principal=team.supervisor, clock=ctx.clock)
    with ctx.db.begin() as session, pytest.raises(InvalidState):
        service.answer_finding(session, ids["vehicle"], outcome="upheld", note="", principal=team.supervisor,
                               clock=ctx.clock)
    # who answered the findings does not confirm the determination resting on them: another supervisor does
    with ctx.db.begin() as session, pytest.raises(Forbidden, match="处理过本案的比对发现"):
        checks.determine(session, case_id, confirm=True, principal=team.supervisor, clock=ctx.clock)
    second = Principal(id="sup-second", username="z", display_name="z", roles=("insurer_supervisor",),
                       counties=(COUNTY,))
    with ctx.db.begin() as session:
        a = checks.determine(session, case_id, confirm=True, principal=second, clock=ctx.clock)
    assert not a.eligibility.eligible and "县人民医院" in a.eligibility.reason
    with ctx.db.read() as session:
        det = session.scalar(select(Determination).where(Determination.case_id == case_id))
        assert [r["kind"] for r in det.registers_consulted] == ["vehicle", "public_employment", "medical"]
        assert det.register_comparisons == 3 * 3
        assert session.scalar(select(Case.status).where(Case.id == case_id)) == "ineligible"
        counts = service.register_counts(session, COUNTY, ctx.clock.today(), ctx.clock.today())
    assert (counts.comparisons, counts.hits, counts.exclusions, counts.households_excluded, counts.explanations,
            counts.open) == (9, 3, 1, 1, 2, 0)


def test_a_register_imported_after_the_check_is_found_at_determination(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    team, hh, case_id = household_at(ctx, "checked")
    import_(ctx, "housing", "身份证号,房屋坐落,建筑面积,成交价格", [f"{hh.id_numbers[0]},县城花园1栋,96.5,420000.00"])
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=users.headers("sup2"))
    assert r.status_code == 409
    findings = client.get(f"/api/cases/{case_id}/findings", headers=users.headers("sup2")).json()
    assert [(f["kind"], f["effect"], f["fact"]["amount"], f["fact"]["area"]) for f in findings] == [
        ("housing", "excludes", "420000.00", "96.50")]
    r = client.post(f"/api/findings/{findings[0]['id']}/answer", json={"outcome": "explained",
                                                                       "note": "购房合同已解除，有法院文书"},
                    headers=users.headers("sup2"))
    assert r.status_code == 200 and r.json()["status"] == "explained"
    # who explained the finding away does not confirm the determination himself: another supervisor does
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=users.headers("sup2"))
    assert r.status_code == 403 and "处理过本案的比对发现" in r.text
    users.add("sup3", "insurer_supervisor", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=users.headers("sup3"))
    assert r.status_code == 200 and r.json()["eligible"]
    det = client.get(f"/api/cases/{case_id}", headers=users.headers("sup2")).json()["determination"]
    assert [r["kind"] for r in det["registers_consulted"]] == ["housing"] and det["register_comparisons"] == 3


def test_an_officers_inconsistent_cross_check_is_a_finding(ctx) -> None:  # type: ignore[no-untyped-def]
    team, hh, case_id = household_at(ctx, "scheduled", members=1)
    record(ctx, team, hh, case_id, cross_checks=[{"source": "bank", "finding": "inconsistent", "note": "存款20万元"}])
    with ctx.db.read() as session:
        (f,) = service.case_findings(session, case_id)
    assert (f.source, f.kind, f.fact, f.status) == ("manual", "bank", {"note": "存款20万元"}, "open")
    with ctx.db.begin() as session, pytest.raises(InvalidState):
        checks.determine(session, case_id, confirm=True, principal=team.supervisor, clock=ctx.clock)


def test_the_feed_calendar_says_what_arrived_and_what_is_overdue(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    r = client.post("/api/referrals/imports", headers=users.headers("sup"),
                    files={"file": ("医保局.csv", csv_bytes("身份证号,姓名,乡镇,村,户类型,原因,金额,日期", [
                        f"{demo.new_household('城关镇', '东村').id_numbers[0]},张三,城关镇,东村,非贫低收入户,因病,30000.00,2020-05-20"]),
                        "text/csv")}, data={"channel": "medical_insurance", "county_code": COUNTY})
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        june = {f.source: f.status for f in feeds.feed_calendar(session, COUNTY, date(2020, 6, 1), date(2020, 6, 8))}
        march = {f.source for f in feeds.feed_calendar(session, COUNTY, date(2020, 3, 1), date(2020, 6, 8))}
    assert june == {"medical_insurance": "arrived", "civil_affairs": "overdue", "emergency_management": "overdue"}
    assert "education" in march
    listed = client.get(f"/api/registers/feeds?county_code={COUNTY}&month=2020-06", headers=users.headers("sup"))
    assert listed.status_code == 200 and listed.json()[0]["status"] in ("arrived", "due")
