"""回避 on a bureau's referral file: whoever imports it shapes its rows' cases (group, cause, amount), so a row naming a
person of a household the importer is tied to (her declared relative, a member of his household, or of the household
a relative moved out of lately) is left out: the rest of the file is imported, the left-out rows are on record
(`recusal.refused`, step `referral_import`), the answer says only how many were left for another staff member, and
the same file imported by a colleague brings in those rows, and only those, under the same import."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from factories import COUNTY, count_rows, make_case, new_id_number
from insider_kit import declare_ties, entries_but_refusals, household_member, move_out, refusals_of, statements_of
from openpyxl import Workbook
from sqlalchemy import select
from web.pagekit import Pages

from verifier.store.tables import Case, Referral, ReferralImport, User

LEFT = "须由其他经办人导入"


def _file(ctx, people: list[tuple[str, str]]) -> bytes:  # type: ignore[no-untyped-def]
    """A civil-affairs bureau's list: one row per (ID number, name)."""
    book = Workbook()
    sheet = book.active
    sheet.append(["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期"])
    for id_number, name in people:
        sheet.append([id_number, name, "城关镇", "东村", "非贫低收入户", "因病", 30000, ctx.clock.today().isoformat()])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _import(client, headers, data: bytes, name: str = "list.xlsx", channel: str = "civil_affairs"):  # type: ignore[no-untyped-def]
    return client.post("/api/referrals/imports", headers=headers, data={"channel": channel, "county_code": COUNTY},
                       files={"file": (name, data, "application/octet-stream")})


def _referred(ctx, id_number: str) -> int:  # type: ignore[no-untyped-def]
    """The person's referrals from a file (not the applications the factories' cases began with)."""
    return count_rows(ctx, Referral, Referral.id_number_bidx == ctx.vault.blind_index(id_number, "id_number"),
                      Referral.import_id.is_not(None))


def test_attack_a_reviewer_imports_the_bureau_list_that_names_her_family(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Her brother (not yet known), the head of a household one of whose members she declared, and the head of the
    household her mother moved out of this year are left out of her import; two strangers are imported. Imported
    again by her: nothing more. By a colleague on the page: the three, and only they; then the file is done."""
    users.add("kin", "county_reviewer", counties=(COUNTY,))
    users.add("colleague", "county_reviewer", counties=(COUNTY,))
    brother = new_id_number()
    known = make_case(ctx, stage="checked")
    household, _, head = household_member(ctx, known)
    _, _, relative = household_member(ctx, known, head=False)
    left_case = make_case(ctx, stage="checked")
    left_household, _, left_head = household_member(ctx, left_case)
    _, mother_member, mother = household_member(ctx, left_case, head=False)
    elsewhere = household_member(ctx, make_case(ctx, stage="checked"))[0]
    year = ctx.clock.today().year
    move_out(ctx, mother_member, left_household, elsewhere, datetime(year, 1, 5, tzinfo=UTC), "hhc_rf_mother")
    declare_ties(client, users.headers("kin"), brother, relative, mother)
    strangers = [new_id_number(), new_id_number()]
    data = _file(ctx, [(strangers[0], "张三"), (brother, "李兄"), (head, "户主甲"), (strangers[1], "李四"),
                       (left_head, "户主乙")])
    cases = count_rows(ctx, Case)

    r = _import(client, users.headers("kin"), data)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["rows"], body["new_cases"], body["merged"], body["left_out"], body["repeated"]) == (2, 2, 0, 3, False)
    for said in (brother, head, left_head, "李兄", "户主"):  # the answer names nobody
        assert said not in r.text
    assert [_referred(ctx, p) for p in (*strangers, brother, head, left_head)] == [1, 1, 0, 0, 0]
    assert count_rows(ctx, Case) == cases + 2
    found = refusals_of(ctx, users.ids["kin"])
    assert [(e["step"], e["row"], e["households"], e["subject"]) for e in found] == [
        ("referral_import", 3, [], body["batch_id"]), ("referral_import", 4, [household], body["batch_id"]),
        ("referral_import", 6, [left_household], body["batch_id"])]
    assert {e["county_code"] for e in found} == {COUNTY}

    # the same file again, by her: nothing more comes in, the rows are still left (and on record again)
    before = entries_but_refusals(ctx)
    r = _import(client, users.headers("kin"), data)
    assert r.status_code == 201, r.text
    assert (r.json()["rows"], r.json()["left_out"], r.json()["batch_id"]) == (0, 3, body["batch_id"])
    assert [_referred(ctx, p) for p in (brother, head, left_head)] == [0, 0, 0]
    assert entries_but_refusals(ctx) == before + 1  # the import's entry, saying which rows are still to come

    # a colleague imports the same file on the page: the three rows, under the same import
    pages = Pages(client, users)
    pages.login("colleague")
    pages.get("/referrals/import")
    r = pages.post("/referrals/import", {"channel": "civil_affairs", "county_code": COUNTY},
                   files={"file": ("list.xlsx", data, "application/octet-stream")})
    assert r.status_code == 303, r.text
    r = pages.get(r.headers["location"])
    assert "已导入 3 行" in r.text and LEFT not in r.text, r.text
    assert [_referred(ctx, p) for p in (*strangers, brother, head, left_head)] == [1, 1, 1, 1, 1]
    assert count_rows(ctx, Case) == cases + 3  # the brother's; the two heads' rows merge into their open cases
    with ctx.db.read() as session:
        record = session.scalar(select(ReferralImport))
        assert (record.id, record.rows, record.new_cases + record.merged) == (body["batch_id"], 5, 5)
        assert set(session.scalars(select(Referral.import_id).where(Referral.import_id.is_not(None)))) == {record.id}
    assert refusals_of(ctx, users.ids["colleague"]) == []

    # now the file is done: anyone importing it again is told so
    r = _import(client, users.headers("kin"), data)
    assert r.status_code == 201 and r.json()["repeated"] is True and r.json()["left_out"] == 0, r.text


def test_a_settlement_export_naming_her_father_leaves_his_lines_out(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A medical-insurance settlement export (lines summed per person) is guarded the same way."""
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    father, other = new_id_number(), new_id_number()
    declare_ties(client, users.headers("sup"), father)
    day = ctx.clock.today().isoformat()
    header = "序号,参保人姓名,身份证号码,乡镇（街道）,村（社区）,结算日期,医疗总费用,基本医疗保险统筹基金支付,大病保险支付,医疗救助支付"
    lines = [header, f"1,张父,{father},城关镇,东村,{day},10000.00,6000.00,1000.00,500.00",
             f"2,李四,{other},城关镇,西村,{day},800.00,500.00,,",
             f"3,张父,{father},城关镇,东村,{day},20000.50,12000.00,2000.00,0"]
    data = ("\r\n".join(lines) + "\r\n").encode("gbk")
    r = _import(client, users.headers("sup"), data, "医保结算.csv", "medical_insurance")
    assert r.status_code == 201, r.text
    assert (r.json()["rows"], r.json()["left_out"]) == (1, 1)
    assert (_referred(ctx, father), _referred(ctx, other)) == (0, 1)
    assert [e["step"] for e in refusals_of(ctx, users.ids["sup"])] == ["referral_import"]
    r = _import(client, users.headers("sup2"), data, "医保结算.csv", "medical_insurance")
    assert r.status_code == 201 and (r.json()["rows"], r.json()["left_out"]) == (1, 0), r.text
    assert (_referred(ctx, father), _referred(ctx, other)) == (1, 1)


def test_the_guard_reads_by_ties_not_by_row(ctx, users) -> None:  # type: ignore[no-untyped-def]
    """A tied importer's file of 3,000 rows costs the same few guard statements as one of 300: the ties, the
    households they reach, their members (`guard.recused_people`), never a statement per row; the rows of her
    relative's household are left out wherever they are in the file."""
    from verifier.accounts.auth import principal_of
    from verifier.referrals import service
    from verifier.settings import ImportLimits
    from verifier.store.tables import User

    users.add("kin", "county_reviewer", counties=(COUNTY,))
    known = make_case(ctx, stage="checked")
    _, _, head = household_member(ctx, known)
    _, _, relative = household_member(ctx, known, head=False)
    with ctx.db.read() as session:
        kin_user = session.get(User, users.ids["kin"])
    from verifier.recusal.models import StaffTie

    with ctx.db.begin() as session:
        session.add(StaffTie(id="tie_rf_bulk", user_id=kin_user.id, relation="other",
                             id_number_enc=ctx.vault.seal(relative, "staff_tie.id_number"),
                             id_number_bidx=ctx.vault.blind_index(relative, "id_number"), declared_by=kin_user.id,
                             declared_at=ctx.clock.now()))
    with ctx.db.read() as session:
        kin = principal_of(session.get(User, kin_user.id))
    counted: list[int] = []
    results = []
    for n in (300, 3000):
        people = [(new_id_number(), f"农户{i}") for i in range(n)]
        people.insert(n // 2, (head, "户主"))
        data = _file(ctx, people)

        def run() -> None:
            results.append(service.import_referral_file(
                ctx.db, vault=ctx.vault, source=io.BytesIO(data), filename="list.xlsx", channel="civil_affairs",
                county_code=COUNTY, principal=kin, role="county_reviewer", clock=ctx.clock, limits=ImportLimits()))

        statements = statements_of(ctx, run)
        counted.append(len([s for s in statements if "staff_tie" in s or "household_change" in s]))
    assert [(r.rows, r.left_out) for r in results] == [(300, 1), (3000, 1)]
    assert counted[0] == counted[1] and counted[0] <= 4, counted


def test_the_command_line_imports_as_its_operator_and_refuses_as(ctx, client, users, tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    """`verifier import` records the import as the operator (`cli:<operator>`), whose ties (none) the guard reads:
    naming a tied user with `--as` is refused in Chinese and imports nothing, so the audit log never says a user
    imported what the operator did, and the 回避 guard is never applied to another person's ties."""
    from click.testing import CliRunner

    from verifier.cli import main

    users.add("kin", "county_reviewer", counties=(COUNTY,))
    sister = new_id_number()
    declare_ties(client, users.headers("kin"), sister)
    path = tmp_path / "民政局名单.xlsx"
    path.write_bytes(_file(ctx, [(sister, "李妹"), (new_id_number(), "张三")]))
    env = {"VERIFIER_HOME": str(ctx.settings.home), "VERIFIER_DATABASE_URL": database_url}
    args = ["import", str(path), "--channel", "civil_affairs", "--county", COUNTY]
    r = CliRunner().invoke(main, [*args, "--as", "kin"], env=env, catch_exceptions=False)
    assert r.exit_code == 2 and "错误：没有选项 --as。" in r.output, r.output
    assert count_rows(ctx, ReferralImport) == 0 and _referred(ctx, sister) == 0
    r = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert r.exit_code == 0 and "已导入 2 行" in r.output and LEFT not in r.output, r.output
    from verifier.audit.models import AuditEntry

    with ctx.db.read() as session:
        batch = session.scalar(select(ReferralImport))
        actors = set(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "referrals.import")))
    assert batch is not None and batch.imported_by.startswith("cli:"), batch
    assert actors == {batch.imported_by}, actors
    assert _referred(ctx, sister) == 1


def _principal(ctx, user_id: str):  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import principal_of
    from verifier.store.tables import User

    with ctx.db.read() as session:
        return principal_of(session.get(User, user_id))


def _race(ctx, monkeypatch, data: bytes, people: list) -> list:  # type: ignore[no-untyped-def]
    """The same new file imported by `people` (two) at once, both looking for it before either writes (PostgreSQL)."""
    import threading

    from race_kit import race_twice

    from verifier.referrals import service

    lock = threading.Lock()

    def write(db):  # type: ignore[no-untyped-def]
        with lock:
            who = people.pop()
        return who.id, service.import_referral_file(
            db, vault=ctx.vault, source=io.BytesIO(data), filename="list.xlsx", channel="civil_affairs",
            county_code=COUNTY, principal=who, role="county_reviewer", clock=ctx.clock, limits=ctx.settings.imports)

    return race_twice(monkeypatch, service, "_earlier", ctx.db.url, write)


def test_two_colleagues_importing_the_same_new_file_at_once_get_one_import(ctx, client, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Neither finds the file, both write it: the second meets the first's import under its unique key and is told the
    file was imported (not a 500), nothing brought in twice."""
    people = [_principal(ctx, users.add(n, "county_reviewer", counties=(COUNTY,))) for n in ("rev-a", "rev-b")]
    strangers = [new_id_number(), new_id_number()]
    answers = _race(ctx, monkeypatch, _file(ctx, [(strangers[0], "张三"), (strangers[1], "李四")]), people)
    assert sorted(r.repeated for _, r in answers) == [False, True]
    assert len({r.batch_id for _, r in answers}) == 1
    assert [_referred(ctx, p) for p in strangers] == [1, 1] and count_rows(ctx, ReferralImport) == 1


def test_a_tied_importer_and_a_colleague_importing_the_same_file_at_once_bring_in_each_row_once(ctx, client, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Whoever's insert comes second continues the first's import: the colleague brings in the rows the tied importer
    left out, or the tied importer finds the file done."""
    kin, colleague = (users.add(n, "county_reviewer", counties=(COUNTY,)) for n in ("kin", "colleague"))
    brother = new_id_number()
    declare_ties(client, users.headers("kin"), brother)
    strangers = [new_id_number(), new_id_number()]
    data = _file(ctx, [(strangers[0], "张三"), (brother, "李兄"), (strangers[1], "李四")])
    answers = dict(_race(ctx, monkeypatch, data, [_principal(ctx, kin), _principal(ctx, colleague)]))
    assert len({r.batch_id for r in answers.values()}) == 1
    assert [_referred(ctx, p) for p in (*strangers, brother)] == [1, 1, 1]
    with ctx.db.read() as session:
        record = session.scalar(select(ReferralImport))
        assert record is not None and (record.rows, record.new_cases + record.merged) == (3, 3)
    assert count_rows(ctx, ReferralImport) == 1
    if answers[kin].repeated:  # the colleague's came first: all three rows are hers
        assert (answers[colleague].rows, answers[colleague].left_out) == (3, 0)
    else:  # hers first: the brother's row left for the colleague, who continues her import
        assert (answers[kin].rows, answers[kin].left_out, answers[colleague].rows) == (2, 1, 1)


def test_a_row_without_its_number_is_never_left_out_silently(ctx) -> None:  # type: ignore[no-untyped-def]
    """A left-out row is known by its number alone (the import's `left_out_rows`): one without a number would have
    gone in as row 0 and never be brought in; the parsers number every row, so such a row is a fault, raised."""
    import pytest

    from verifier.domain.money import Fen
    from verifier.referrals import service
    from verifier.referrals.parsing import ReferralRow

    person = new_id_number()
    row = ReferralRow(None, person, "李兄", "城关镇", "东村", "low_income", "illness", Fen(3000000))
    left: dict[int, str | None] = {}
    with pytest.raises(AssertionError, match="numbered"):
        service._leave_out(ctx.vault, [row], {ctx.vault.blind_index(person, "id_number"): "hh_1"}, service._Known(),
                           left)
    assert left == {}
    numbered = ReferralRow(7, *(getattr(row, f) for f in ReferralRow.__struct_fields__[1:]))
    assert service._leave_out(ctx.vault, [numbered], {ctx.vault.blind_index(person, "id_number"): "hh_1"},
                              service._Known(), left) == [] and left == {7: "hh_1"}


def test_the_import_page_lists_the_files_still_waiting_for_another_staff_member(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Only the tied importer's answer said rows were left out: the import page lists, to everyone of the county who
    imports, each import still waiting, who first imported it and how many rows wait (no row or person named); a
    colleague continuing it is told whose import she continued (named as people know her, no stored id shown); then
    the file leaves the list. The page after each run says what THAT run brought in (its audit entry), not the
    import's totals."""
    import re

    kin = users.add("kin", "county_reviewer", counties=(COUNTY,))
    with ctx.db.begin() as session:
        session.get(User, kin).display_name = "县复核 金晓"
    users.add("colleague", "insurer_supervisor", counties=(COUNTY,))
    users.add("far", "county_reviewer", counties=("340224",))
    brother, sister = new_id_number(), new_id_number()
    declare_ties(client, users.headers("kin"), brother, sister)
    data = _file(ctx, [(new_id_number(), "张三"), (brother, "李兄"), (sister, "李妹")])
    first = _import(client, users.headers("kin"), data, name="民政局3月.xlsx").json()
    assert first["left_out"] == 2
    pages = Pages(client, users)
    pages.login("colleague")
    listed = pages.get("/referrals/import")
    assert "waiting-imports" in listed.text and f"{LEFT} 2 行" in listed.text, listed.text
    assert "民政局3月.xlsx" in listed.text and "县复核 金晓" in listed.text
    assert not re.search(r"[>\s]kin[<\s]", listed.text) and "imp_" not in listed.text  # no account name, no id
    for said in (brother, sister, "李兄", "李妹"):
        assert said not in listed.text
    assert "waiting-imports" not in client.get("/referrals/import", headers=users.headers("far")).text

    r = pages.post("/referrals/import", {"channel": "civil_affairs", "county_code": COUNTY},
                   files={"file": ("民政局3月.xlsx", data, "application/octet-stream")})
    assert r.status_code == 303, r.text  # Post/Redirect/Get: the import's id in the address, the rest in the store
    assert r.headers["location"].endswith(f"import={first['batch_id']}")
    r = pages.get(r.headers["location"])
    assert r.status_code == 200 and "已导入 2 行：新建案件 2 件" in r.text, r.text  # her run's 2, not the file's 3
    assert "此前已由县复核 金晓于" in r.text and "只导入当时留待其他经办人导入的行" in r.text
    assert "waiting-imports" not in r.text and LEFT not in r.text and "imp_" not in r.text
    assert "waiting-imports" not in client.get("/referrals/import", headers=users.headers("kin")).text
    pages.login("kin")  # her own run, as its page said it: one row, two left for another staff member
    mine = pages.get(f"/referrals/import?done=referrals_imported&import={first['batch_id']}").text
    assert "已导入 1 行：新建案件 1 件" in mine and f"另有 2 行{LEFT}" in mine and "此前已由" not in mine
