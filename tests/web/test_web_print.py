"""Printing: the approval form of a case (核查审批表) and the officers' route sheets (走访路线单), with what each
reader may see of the household's personal data, and the print styles of the lists."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from factories import COUNTY, make_case, staff
from pagekit import OTHER_COUNTY
from sqlalchemy import select

from verifier import demo
from verifier.cases import service as cases
from verifier.checks import service as checks
from verifier.peeks.models import PersonalView
from verifier.referrals import service as referrals
from verifier.store.tables import Case, Check, Determination, User

PHONE = "13812345678"
FACTORY_PASSWORD = "factory-password"


def _body(text: str) -> str:
    return text.split("<main", 1)[1]


def test_the_approval_form_shows_the_household_the_relief_tiers_and_who_did_what(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined", medical=4_200_000, head_name="张印表")
    pages.as_("sup-print", "insurer_supervisor")
    case_page = pages.get(f"/cases/{case_id}").text
    assert f'href="/cases/{case_id}/approval-form"' in case_page
    r = pages.get(f"/cases/{case_id}/approval-form")
    assert r.status_code == 200
    text = r.text
    assert 'class="main"' not in text and "主导航" not in text  # no navigation on the sheet
    body = _body(text)
    assert "示范县防贫帮困保障核查审批表" in body and "张印表" in body
    with ctx.db.read() as session:  # the readable number, as on every page (it printed the internal id)
        number = session.get(Case, case_id).number
    assert f'案件编号 <span class="mono" id="case-number">{number}</span>' in body and case_id not in body
    # Members: three rows, their ID numbers masked 6+4 for a supervisor; never a whole ID number.
    members = body.split('id="members"')[1].split("</table>")[0]
    assert members.count("<tr>") == 4
    assert re.search(r"\d{6}\*{8}[\dX]{4}", members) and not re.search(r"\d{17}[\dX]", body)
    # Income, expenditure, the relief by tier (4,200,000 fen of costs → 21,900.00) and the people.
    assert "工资性收入" in body and "合规自付医疗费用" in body and "42,000.00" in body
    tiers = body.split('id="relief"')[1].split("</table>")[0]
    assert tiers.count("<tr>") >= 4 and "50%" in tiers and "60%" in tiers and "21,900.00" in tiers
    steps = body.split('id="steps"')[1].split("</table>")[0]
    with ctx.db.read() as session:
        check = session.scalar(select(Check).where(Check.case_id == case_id))
        determination = session.scalar(select(Determination).where(Determination.case_id == case_id))
        names = dict(session.execute(select(User.id, User.display_name)).tuples().all())
    assert len(check.officer_ids) == 2
    assert all(f"{names[o]}" in steps for o in check.officer_ids) and names[determination.confirmed_by] in steps
    assert "usr_" not in body
    for title in ("核查人", "审核人", "村委会意见", "乡镇意见", "县级审核意见"):
        assert f'<p class="signature-title">{title}</p>' in body
    # On an officer's phone the wide tables scroll in their own box: the sheet was 510 px wide at 390 (printed,
    # .table-wrap lets them be whole).
    for wide in ("members", "relief", "steps"):
        assert re.search(r'<div class="table-wrap"><table(?: class="form-grid")? id="%s">' % wide, body), wide
    # A case not yet checked prints what there is.
    fresh = make_case(ctx, stage="received")
    assert "尚未入户核查" in pages.get(f"/cases/{fresh}/approval-form").text


def test_the_approval_form_is_the_readers_of_the_case_only(pages, ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined")
    pages.as_("far-rev", "county_reviewer", counties=(OTHER_COUNTY,))
    assert pages.get(f"/cases/{case_id}/approval-form").status_code == 404
    pages.as_("near-clerk", "town_clerk")
    assert pages.get(f"/cases/{case_id}/approval-form").status_code == 200


def _scheduled_with_phone(ctx, team: int, village: str) -> tuple[str, demo.Team]:  # type: ignore[no-untyped-def]
    s = staff(ctx, team=team)
    t = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", village)
    with ctx.db.begin() as session:
        case_id = referrals.enter_application(session, vault=ctx.vault, principal=t.clerk, clock=ctx.clock, payload={
            "county_code": COUNTY, "id_number": hh.id_numbers[0], "name": hh.head, "town": hh.town,
            "village": hh.village, "household_group": hh.group, "cause": "illness", "amount": "30000.00",
            "referred_on": (ctx.clock.today() - timedelta(days=2)).isoformat(), "phone": PHONE}).case_ids[0]
    with ctx.db.begin() as session:
        cases.screen(session, case_id, decision="pass", reason="", principal=t.clerk, clock=ctx.clock)
    with ctx.db.begin() as session:
        cases.schedule(session, case_id, officers=[t.officer1.id, t.officer2.id], visit_on=ctx.clock.today(),
                       vehicle=f"车{team}", principal=t.supervisor, clock=ctx.clock)
    return case_id, t


def test_route_sheets_list_the_days_visits_with_phones_for_the_assigned_officer_masked_for_the_supervisor(  # type: ignore[no-untyped-def]
        pages, ctx) -> None:
    first, team = _scheduled_with_phone(ctx, 7, "北村")
    second, _ = _scheduled_with_phone(ctx, 7, "东村")
    other, other_team = _scheduled_with_phone(ctx, 8, "西村")
    day = ctx.clock.today().isoformat()
    with ctx.db.read() as session:
        heads = {c: cases.load_case(session, c, None).household.head_name for c in (first, second, other)}

    # The assigned officer: their own sheet, in order of village, phones in full; another team's household absent.
    pages.login(team.officer1.username, FACTORY_PASSWORD)
    assert 'href="/visits/route?day=' in pages.get("/visits").text
    sheet = _body(pages.get(f"/visits/route?day={day}").text)
    assert sheet.count('class="route-officer"') == 1
    # on a phone the nine columns scroll inside their box, not the whole page sideways (app.css's .table-wrap)
    assert sheet.count('<div class="table-wrap"><table class="route">') == 1
    assert sheet.index(heads[second]) < sheet.index(heads[first])  # in order of village (by its name)
    assert sheet.count(PHONE) == 2 and heads[other] not in sheet
    # Asking for another officer's sheet shows only one's own.
    mine_again = _body(pages.get(f"/visits/route?day={day}&officer={other_team.officer1.id}").text)
    assert heads[other] not in mine_again

    # The supervisor: every officer of the day (one page each), phones masked, each with a link to ask for it in full
    # on the household file (the ask recorded, 查阅留痕); or one officer.
    pages.login(team.supervisor.username, FACTORY_PASSWORD)
    assert 'id="route-sheets"' in pages.get("/schedule").text
    every = _body(pages.get(f"/visits/route?day={day}").text)
    assert every.count('class="route-officer"') == 4 and every.count(PHONE) == 0
    assert every.count("138****5678") == 6 and every.count("显示完整号码</button>") == 6
    # a POST (no link, prefetch or shared address shows the phone), its page standing as the household file's address
    asked = re.search(r'<form method="post" action="(/households/[^"?#/]+)/phone#household-phone"', every)
    assert asked is not None
    shown = pages.post(asked.group(1) + "/phone").text
    assert PHONE in shown and f'data-form-page="{asked.group(1)}"' in shown
    assert PHONE not in pages.get(asked.group(1)).text
    with ctx.db.read() as session:
        assert session.scalars(select(PersonalView.kind).where(PersonalView.user_id == team.supervisor.id)).all() \
            .count("phone") == 1
    one = _body(pages.get(f"/visits/route?day={day}&officer={other_team.officer2.id}").text)
    assert one.count('class="route-officer"') == 1 and heads[other] in one and heads[first] not in one

    # Once the check is recorded, the officer's phone view of that household is masked.
    hh_members = [{"name": heads[first], "id_number": _id_of(ctx, first), "relation": "head", "labour": "full"}]
    with ctx.db.begin() as session:
        checks.record_check(session, first, checks.CheckInput(
            visited_on=ctx.clock.today(), officers=[team.officer1.id, team.officer2.id], members=hh_members,
            income=demo.HouseholdIncome(wages=100_000), rigid=demo.RigidExpenditure(medical_self_paid=4_000_000),
            stable_income=False, payee={"account_name": heads[first], "bank": "农村商业银行",
                                        "account_number": "6222020200112233445"},
            cross_checks=[], evidence=[], note=""), vault=ctx.vault, principal=team.officer1, clock=ctx.clock)
    pages.login(team.officer1.username, FACTORY_PASSWORD)
    after = _body(pages.get(f"/visits/route?day={day}").text)
    assert after.count(PHONE) == 1 and "138****5678" in after and heads[first] in after

    # A clerk prints no route sheet; a bad day is said in Chinese.
    pages.login(team.clerk.username, FACTORY_PASSWORD)
    assert pages.get(f"/visits/route?day={day}").status_code == 403
    pages.login(team.officer1.username, FACTORY_PASSWORD)
    bad = pages.get("/visits/route?day=2020-02-31")
    assert bad.status_code == 422 and "请按 年-月-日 填写日期" in bad.text


def _id_of(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    from verifier.store.tables import Referral

    with ctx.db.read() as session:
        sealed = session.scalar(select(Referral.id_number_enc).where(Referral.case_id == case_id))
    return ctx.vault.open(sealed, "referral.id_number")


def test_lists_print_without_navigation_buttons_or_forms_with_headers_on_every_page() -> None:
    css = (Path(__file__).resolve().parents[2] / "src" / "verifier" / "web" / "static" / "app.css").read_text("utf-8")
    rules = css.split("@media print")[1]
    for hidden in (".top", "nav.main", "form", "button", ".button", ".actions", ".pager"):
        assert hidden in rules.split("display: none")[0]
    assert "thead { display: table-header-group; }" in rules and "width: 100% !important" in rules
    assert "@page { size: A4" in css
