"""The household file (一户一档) and the county's risk-removed mark (风险消除): one read of everything a household went
through, masked for the reader, within the reader's counties; the mark only by a county reviewer, revocable, and
every step in the audit log."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from factories import COUNTY, make_case, staff
from verifier.accounts.auth import principal_of
from verifier.accounts.service import add_user
from verifier.audit.models import AuditEntry
from verifier.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from verifier.households import risk
from verifier.households.file import household_file
from verifier.store.tables import Case, Member, User, Visit
from web.pagekit import Pages

OTHER = "340224"
# A whole ID number standing alone (not a run of digits inside a random internal id, which is longer).
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")


def principal(ctx, username: str, role: str, county: str = COUNTY):  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        return principal_of(add_user(session, username=username, password="a long password", roles=[role],
                                     counties=[county], clock=ctx.clock))


def household_of(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return session.scalar(select(Case.household_id).where(Case.id == case_id))


def id_numbers(ctx, household_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return [ctx.vault.open(m.id_number_enc, "member.id_number")
                for m in session.scalars(select(Member).where(Member.household_id == household_id))]


def entries(ctx, subject: str) -> list[tuple[int, str, dict]]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return [(e.idx, e.action, json.loads(e.entry)["payload"]) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.idx))]


def removal(**kw):  # type: ignore[no-untyped-def]
    base = {"evidence_kind": "income_above_line", "evidence_on": date(2020, 5, 31), "note": "1至6月务工收入高于收入线",
            "months": 6}
    return risk.Removal(**{**base, **kw})


def test_the_file_gathers_the_household_masked_and_its_steps_with_their_audit_entries(ctx) -> None:  # type: ignore[no-untyped-def]
    from roster_kit import import_confirmed

    case_id = make_case(ctx, stage="determined")
    household = household_of(ctx, case_id)
    head = id_numbers(ctx, household)[0]
    reviewer = principal(ctx, "hf-rev", "county_reviewer")
    csv = f"证件号码,类别\r\n{head},监测对象-边缘易致贫户\r\n".encode("gbk")
    import_confirmed(ctx, csv, county=COUNTY, importer=reviewer)
    supervisor = staff(ctx).supervisor
    with ctx.db.read() as session:
        file = household_file(session, household, supervisor, ctx.vault)
    sections = {s.key: s for s in file.sections}
    # What the household went through is there; what it did not go through is no section (nothing invented).
    assert list(sections) == ["members", "member_history", "cases", "referrals", "checks", "determinations"]
    assert file.household.roster_categories == ["edge"]
    assert {r["roster"] for r in sections["members"].rows} == {"edge", "none"}
    assert [r["case_id"] for r in sections["cases"].rows] == [case_id]
    assert sections["determinations"].rows[0]["eligible"] is True
    assert file.household.risk_status == "at_risk" and not file.full_ids
    assert not FULL_ID.search(json.dumps([s.rows for s in file.sections], ensure_ascii=False))
    # The timeline is the case's audit entries, in order, each with its index.
    logged = entries(ctx, case_id)
    steps = [s for s in file.timeline if s.case_id == case_id]
    assert [(s.index, s.action) for s in steps] == [(i, a) for i, a, _ in logged]
    assert all(s.actor in file.names for s in steps)


def test_the_officers_at_the_door_see_full_ids_and_nobody_outside_the_county_sees_the_file(ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    household = household_of(ctx, case_id)
    with ctx.db.read() as session:
        officer_ids = session.scalar(select(Visit.officer_ids).where(Visit.case_id == case_id))
        at_door = principal_of(session.get(User, officer_ids[0]))
    other_officer = principal(ctx, "hf-off2", "field_officer")
    stranger = principal(ctx, "hf-far", "county_reviewer", OTHER)
    with ctx.db.read() as session:
        full = household_file(session, household, at_door, ctx.vault)
        assert full.full_ids and FULL_ID.search(json.dumps(full.sections[0].rows))
        # The same reader's export is masked: a file outlives the visit.
        assert not FULL_ID.search(json.dumps(
            household_file(session, household, at_door, ctx.vault, masked=True).sections[0].rows))
        masked = household_file(session, household, other_officer, ctx.vault)
        assert not masked.full_ids and not FULL_ID.search(json.dumps(masked.sections[0].rows))
        with pytest.raises(NotFound):
            household_file(session, household, stranger, ctx.vault)


def test_risk_removed_by_the_county_reviewer_with_evidence_revocable_and_audited(ctx) -> None:  # type: ignore[no-untyped-def]
    household = household_of(ctx, make_case(ctx, stage="checked"))
    reviewer = principal(ctx, "rk-rev", "county_reviewer")
    team = staff(ctx)
    far = principal(ctx, "rk-far", "county_reviewer", OTHER)

    def attempt(who, data, error):  # type: ignore[no-untyped-def]
        with pytest.raises(error):
            with ctx.db.begin() as session:
                risk.mark_removed(session, household, data, principal=who, clock=ctx.clock)

    # Insiders who may not: the insurer's supervisor and officer (whose relief it would end), another county.
    attempt(team.supervisor, removal(), Forbidden)
    attempt(team.officer1, removal(), Forbidden)
    attempt(far, removal(), NotFound)
    # Evidence that does not hold: every problem named, nothing written.
    with pytest.raises(ValidationFailed) as bad:
        with ctx.db.begin() as session:
            risk.mark_removed(session, household, removal(months=None, note=" ",
                                                          evidence_on=ctx.clock.today() + timedelta(days=1)),
                              principal=reviewer, clock=ctx.clock)
    assert {e.field for e in bad.value.errors} == {"months", "note", "evidence_on"}
    attempt(reviewer, removal(evidence_kind="follow_up"), ValidationFailed)  # months only for income above the line
    with ctx.db.read() as session:
        assert risk.events(session, household) == [] and risk.status_of(session, household) == "at_risk"
    assert entries(ctx, household) == []

    with ctx.db.begin() as session:
        risk.mark_removed(session, household, removal(), principal=reviewer, clock=ctx.clock)
    attempt(reviewer, removal(), InvalidState)  # a second submission changes nothing
    with pytest.raises(Forbidden):
        with ctx.db.begin() as session:
            risk.revoke(session, household, on=ctx.clock.today(), reason="回访发现收入下降",
                        principal=team.supervisor, clock=ctx.clock)
    with pytest.raises(ValidationFailed):
        with ctx.db.begin() as session:
            risk.revoke(session, household, on=ctx.clock.today(), reason="", principal=reviewer, clock=ctx.clock)
    with ctx.db.begin() as session:
        risk.revoke(session, household, on=ctx.clock.today(), reason="回访发现收入下降", principal=reviewer,
                    clock=ctx.clock)
    with pytest.raises(InvalidState):
        with ctx.db.begin() as session:
            risk.revoke(session, household, on=ctx.clock.today(), reason="再次撤销", principal=reviewer,
                        clock=ctx.clock)

    logged = entries(ctx, household)
    assert [a for _, a, _ in logged] == ["household.risk_removed", "household.risk_restored"]
    assert logged[0][2]["evidence_kind"] == "income_above_line" and logged[0][2]["months"] == 6
    assert "收入" not in json.dumps(logged, ensure_ascii=False)  # the notes are in the log as SHA-256 only
    with ctx.db.read() as session:
        file = household_file(session, household, reviewer, ctx.vault)
    assert file.household.risk_status == "restored"
    rows = next(s for s in file.sections if s.key == "risk").rows
    assert [(r["status"], r["evidence_kind"], r["months"]) for r in rows] == [
        ("removed", "income_above_line", 6), ("restored", None, None)]
    assert [s.index for s in file.timeline if s.action.startswith("household.")] == [i for i, _, _ in logged]


def test_api_file_with_spot_check_results_and_risk_status(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from sampling.sampling_helpers import Rounds

    case_id, neighbour = make_case(ctx, stage="determined"), make_case(ctx, stage="determined")
    household = household_of(ctx, case_id)
    users.add("api-rev", "county_reviewer", counties=(COUNTY,))
    users.add("api-sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("api-far", "county_reviewer", counties=(OTHER,))
    rounds = Rounds(client, users.headers("api-rev"), users.headers("api-sup"))
    round_id = rounds.create(stratify_by_town=False, min_rate="1.00")["id"]
    assert set(rounds.draw(round_id)["case_ids"]) == {case_id, neighbour}
    rounds.result(round_id, case_id, per_capita_income="9000.00", eligible=False, relief_amount="0.00")
    rounds.result(round_id, neighbour, per_capita_income="9000.00", eligible=False, relief_amount="0.00")

    r = client.get(f"/api/households/{household}/file", headers=users.headers("api-sup"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["household"]["id"] == household and body["sections"][0]["key"] == "members"
    sampled = next(s for s in body["sections"] if s["key"] == "sampling")["rows"]
    assert [(x["case_id"], x["eligible"], x["deviation"], x["per_capita_income"]) for x in sampled] == [
        (case_id, False, True, "9000.00")]
    recorded = [t for t in body["timeline"] if t["action"] == "sampling.result_recorded"]
    assert [t["case_id"] for t in recorded] == [case_id]  # the neighbour's result is not in this file
    assert client.get(f"/api/households/{household}/file", headers=users.headers("api-far")).status_code == 404

    url = f"/api/households/{household}/risk-status"
    good = {"action": "remove", "on": "2020-05-30", "evidence_kind": "follow_up", "note": "回访核实已稳定就业"}
    assert client.post(url, json=good, headers=users.headers("api-sup")).status_code == 403
    assert client.post(url, json=good, headers=users.headers("api-far")).status_code == 404
    r = client.post(url, json={**good, "evidence_kind": "income_above_line"}, headers=users.headers("api-rev"))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "连续月数" in r.text
    key = {**users.headers("api-rev"), "Idempotency-Key": "risk-1"}
    first = client.post(url, json=good, headers=key)
    assert first.status_code == 201, first.text
    assert client.post(url, json=good, headers=key).json() == first.json()  # a replay answers the same
    again = client.post(url, json=good, headers=users.headers("api-rev"))
    assert again.status_code == 409 and "不能重复标记" in again.text
    r = client.post(url, json={"action": "revoke", "on": "2020-06-01", "note": "新发生大额医疗支出"},
                    headers=users.headers("api-rev"))
    assert r.status_code == 201 and r.json()["status"] == "restored"
    with ctx.db.read() as session:
        assert [e.status for e in risk.events(session, household)] == ["removed", "restored"]


def test_pages_link_the_file_from_the_case_and_the_search_and_export_it_logged(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from docx import Document
    from openpyxl import load_workbook

    case_id = make_case(ctx, stage="determined", head_name="档案户")
    household = household_of(ctx, case_id)
    pages = Pages(client, users).as_("pg-clerk", "town_clerk")
    case_page = pages.get(f"/cases/{case_id}")
    assert f'href="/households/{household}"' in case_page.text
    found = pages.get("/cases?q=档案户")
    assert f'href="/households/{household}"' in found.text
    shown = pages.get(f"/households/{household}")
    assert shown.status_code == 200 and "档案户户 一户一档" in shown.text and "入户核查" in shown.text
    assert not FULL_ID.search(shown.text)
    assert 'id="risk-remove"' not in shown.text  # a clerk does not mark risk

    word = pages.get(f"/households/{household}/file.docx")
    assert word.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(word.content)).paragraphs)
    cells = [c.text for t in Document(io.BytesIO(word.content)).tables for row in t.rows for c in row.cells]
    assert "档案户户 一户一档" in text and "认定符合条件" in cells and not FULL_ID.search(" ".join(cells))
    sheet = pages.get(f"/households/{household}/file.xlsx")
    book = load_workbook(io.BytesIO(sheet.content))
    assert {"户基本情况", "家庭成员", "认定结果", "办理记录"} <= set(book.sheetnames)
    amounts = [row[4] for row in book["认定结果"].iter_rows(min_row=2, values_only=True)]
    assert amounts and all(not isinstance(a, str) for a in amounts)  # money is a number
    exports = [p for _, a, p in entries(ctx, household) if a == "household.export"]
    assert [p["format"] for p in exports] == ["docx", "xlsx"]

    # The county reviewer marks the risk removed on the page: the form keeps its input on error.
    pages.as_("pg-rev", "county_reviewer")
    shown = pages.get(f"/households/{household}")
    assert 'id="risk-remove"' in shown.text and "/audit?index=" in shown.text
    r = pages.post(f"/households/{household}/risk-status", {"action": "remove", "evidence_kind": "income_above_line",
                                                          "months": "", "evidence_on": "2020-05-31",
                                                          "note": "务工收入稳定"})
    assert r.status_code == 422 and "务工收入稳定" in r.text and "连续月数" in r.text
    r = pages.post(f"/households/{household}/risk-status", {"action": "remove", "evidence_kind": "income_above_line",
                                                          "months": "6", "evidence_on": "2020-05-31",
                                                          "note": "务工收入稳定"})
    assert r.status_code == 303
    shown = pages.get(r.headers["location"])
    assert "风险已消除" in shown.text and 'id="risk-revoke"' in shown.text
    r = pages.post(f"/households/{household}/risk-status", {"action": "remove", "evidence_kind": "follow_up",
                                                          "evidence_on": "2020-05-31", "note": "重复提交"})
    assert r.status_code == 409 and "不能重复标记" in r.text

    # Another county's reviewer: the household does not exist for them.
    pages.as_("pg-far", "county_reviewer", counties=(OTHER,))
    assert pages.get(f"/households/{household}").status_code == 404
    assert pages.get(f"/households/{household}/file.docx").status_code == 404


KINDS = {"text", "int", "money", "day", "moment", "user", "case", "bool", "people", "relations"}


def test_every_column_of_every_section_is_shown_in_words() -> None:
    from verifier.households.file import SECTIONS
    from verifier.web.household_file import label_table

    assert len({s.key for s in SECTIONS}) == len(SECTIONS)
    for source in SECTIONS:
        for column in source.columns:
            assert re.search(r"[\u4e00-\u9fff]", column.title), (source.key, column.key)
            if column.kind.startswith("label:"):
                assert label_table(column.kind[6:]), (source.key, column.key)
            else:
                assert column.kind in KINDS, (source.key, column.kind)


def test_the_printed_file_refuses_a_full_id_number() -> None:
    from verifier.documents.household_file import FileTable, HouseholdDocument, render_household_file

    def doc(number: str) -> HouseholdDocument:
        return HouseholdDocument(title="某户 一户一档", facts=[("户主", "某某")], issued_on=date(2020, 6, 1),
                                 tables=[FileTable("家庭成员", ["姓名", "身份证号"], [["某某", number]])], footer="打印人：某")

    assert render_household_file(doc("340223********1234"))[:2] == b"PK"
    with pytest.raises(ValueError):
        render_household_file(doc("340223197001011234"))
