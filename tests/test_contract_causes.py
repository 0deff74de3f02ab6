"""Causes and household groups are the contract's: a county adds 因残 (disability) priced on "other rigid
expenditure", and it goes from a bureau's file through the check, the determination, the notice and the report with
its Chinese name, while the demo county keeps its three causes."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from verifier import demo
from verifier.contract import check_contract_text, load_contract
from verifier.documents.notice_preview import render_notice_html
from verifier.domain.errors import ValidationFailed
YUAN = 100  # fen
from verifier.notices import service as notices
from verifier.referrals import service as referrals
from verifier.referrals.template import template_xlsx
from verifier.reports import service as reports
from verifier.store import contracts as contract_store
from verifier.web import labels
from verifier.web.report_sheet import monthly_xlsx

from factories import accept_contract, staff

HERE = Path(__file__).resolve().parent
TEXT = (HERE / "contracts" / "disability-2020.toml").read_text("utf-8")
DEMO_TEXT = (HERE.parent / "contracts" / "demo-2020.toml").read_text("utf-8")
COUNTY = "340224"
HEADER = "身份证号,姓名,乡镇,村,户类型,原因,金额,日期\n"


def _problems(text: str) -> list[tuple[str, str]]:
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is None
    return [(p.field, p.message) for p in problems]


def test_a_contract_declares_its_causes_and_groups_and_the_demo_keeps_the_three() -> None:
    contract, problems = check_contract_text(TEXT.encode("utf-8"))
    assert problems == [] and contract is not None
    table = contract.cause_table
    assert table.cause_codes == ("illness", "disaster", "schooling", "disability")
    assert (table.resolve_cause("因残"), table.resolve_cause("残疾"), table.resolve_cause(" Disability ")) == (
        "disability", "disability", "disability")
    assert table.resolve_group("低收入户") == "low_income"
    disability = table.cause("disability")
    assert disability is not None
    assert (disability.basis, disability.basis_name, disability.channel) == ("other_rigid", "残疾康复支出",
                                                                            "civil_affairs")
    demo_contract, _ = check_contract_text(DEMO_TEXT.encode("utf-8"))
    assert demo_contract is not None
    assert demo_contract.cause_table.cause_names() == {"illness": "因病", "disaster": "因灾", "schooling": "因学"}
    assert demo_contract.cause_table.resolve_cause("因残") is None


@pytest.mark.parametrize(("change", "field", "words"), [
    # a cause code twice
    (lambda t: t.replace('code = "disability"', 'code = "illness"'), "causes[3].code", "already used by causes[0]"),
    # a synonym naming two causes
    (lambda t: t.replace('synonyms = ["残疾", "disability"]', 'synonyms = ["残疾", "疾病"]'), "causes[3].synonyms",
     "'疾病' already names cause 'illness'"),
    # a group synonym naming two groups
    (lambda t: t.replace('synonyms = ["低收入户"]', 'synonyms = ["脱贫户"]'), "household_groups[1].synonyms",
     "already names group 'exited_low_standard'"),
    # a basis nobody knows
    (lambda t: t.replace('basis = "other_rigid"\nbasis_label', 'basis = "rehab"\nbasis_label'), "causes[3].basis",
     "unknown basis 'rehab'"),
    # a relief priced on another basis than its cause's
    (lambda t: t.replace('cause = "disability"\nbasis = "other_rigid"', 'cause = "disability"\nbasis = "schooling"'),
     "relief[4].basis", "cause disability is priced on other_rigid"),
    # relief for a cause the contract does not declare
    (lambda t: t.replace('cause = "disability"\nbasis', 'cause = "accident"\nbasis'), "relief[4].cause",
     "unknown cause 'accident'"),
    # an unknown channel
    (lambda t: t.replace('channel = "civil_affairs"', 'channel = "disabled_persons_federation"'), "causes[3].channel",
     "unknown channel"),
    # a cause declared but never priced
    (lambda t: t.split("# Disability, every group")[0], "relief", "cause disability is declared but has no relief"),
    # a cause code the case table cannot hold
    (lambda t: t.replace('code = "disability"', 'code = "因残"'), "causes[3].code", "lower-case letters"),
])
def test_a_bad_cause_table_is_refused_naming_the_problem(change, field: str, words: str) -> None:
    problems = _problems(change(TEXT))
    assert any(f == field and words in m for f, m in problems), problems


def test_loading_refuses_what_checking_refuses(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TEXT.replace('code = "disability"', 'code = "illness"'), "utf-8")
    with pytest.raises(ValidationFailed) as exc:
        load_contract(bad)
    assert any(e.field == "causes[3].code" for e in exc.value.errors)


def _csv(*rows: tuple[str, ...]) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(",".join(r) + "\n" for r in rows)).encode("utf-8"))


def test_a_county_own_cause_from_file_to_notice_and_report(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        contract_store.add_contract(session, load_contract(HERE / "contracts" / "disability-2020.toml"),
                                    actor="admin", role="admin", clock=ctx.clock)
        accept_contract(session, "causes-2020", ctx.clock)  # as the county would
    s = staff(ctx, COUNTY)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    today = ctx.clock.today()
    referred = today  # received this month: a new case of the month's report
    hh = demo.new_household("城关镇", "北村", members=3, group="low_income")
    other = demo.new_household("城关镇", "北村", members=2)

    def load(channel: str, county: str, source: io.BytesIO, principal=s.supervisor):  # type: ignore[no-untyped-def]
        with ctx.db.begin() as session:
            return referrals.import_file(session, vault=ctx.vault, source=source, filename="f.csv", channel=channel,
                                         county_code=county, principal=principal, role="insurer_supervisor",
                                         clock=ctx.clock)

    # A cause the contract does not know is refused, naming the row and the value, listing the accepted ones.
    with pytest.raises(ValidationFailed) as exc:
        load("civil_affairs", COUNTY, _csv((hh.id_numbers[0], hh.head, "城关镇", "北村", "低收入户", "因懒", "5000",
                                            referred.isoformat())))
    (error,) = exc.value.errors
    assert (error.row, error.field) == (2, "cause")
    assert error.message == "无法识别的申请原因「因懒」，可填：因病、因灾、因学、因残"  # said where it is refused
    assert labels.message_zh(error.message) == error.message
    # The demo county's contract has no 因残: the same row is refused there, its three causes listed.
    with pytest.raises(ValidationFailed) as exc:
        load("civil_affairs", "340223", _csv((hh.id_numbers[0], hh.head, "城关镇", "北村", "非贫低收入户", "因残",
                                              "5000", referred.isoformat())),
             principal=staff(ctx, "340223").supervisor)
    (error,) = exc.value.errors
    assert error.row == 2 and "因残" in error.message and "因病" in error.message and "(disability)" not in error.message

    # The county's file: 因残 by its name and by a synonym, and an ordinary 因病 row.
    result = load("civil_affairs", COUNTY, _csv(
        (hh.id_numbers[0], hh.head, "城关镇", "北村", "低收入户", "因残", "26000.00", referred.isoformat()),
        (other.id_numbers[0], other.head, "城关镇", "北村", "非高标准脱贫户", "疾病", "30000", referred.isoformat())))
    assert (result.rows, result.new_cases) == (2, 2)
    with ctx.db.read() as session:
        from verifier.store.tables import Case

        by_cause = {c.cause: c for c in session.query(Case).filter(Case.county_code == COUNTY)}
    assert set(by_cause) == {"disability", "illness"}
    case_id = by_cause["disability"].id

    # Checked on its basis (other rigid expenditure), determined on the contract's tiers for 因残.
    demo.advance_to(ctx, team, case_id, hh, "determined", on=today, vehicle="车01", cost=26_000 * YUAN,
                    wages=600_000)
    with ctx.db.read() as session:
        from verifier.checks import service as checks

        case = session.get(Case, case_id)
        check = checks.latest_check(session, case_id)
        assessment = checks.assess_case(session, case)
    assert (check.other_rigid, check.medical_self_paid) == (26_000 * YUAN, 0)
    assert case.status == "determined" and assessment.eligibility.eligible
    # (26,000 - 3,000 deductible) = 23,000: 10,000 x 50% + 13,000 x 60% = 12,800.
    assert assessment.quote is not None and assessment.quote.amount == 12_800 * YUAN

    # The village reviews it and the notice names it 因残.
    with ctx.db.begin() as session:
        notices.record_review(session, case_id, held_on=today, result="pass", note="评议通过", principal=s.clerk,
                              clock=ctx.clock)
    with ctx.db.begin() as session:
        notice = notices.post_notice(session, notices.NoticeRequest(county_code=COUNTY, town="城关镇", village="北村",
                                                                    posted_on=today), principal=s.clerk,
                                     clock=ctx.clock)
        html = render_notice_html(notices.notice_document(notice))
        stored = notice.document
    assert "因残" in html and any(a in html for a in ("12800.00", "12,800.00"))
    import docx

    printed = "".join(cell.text for t in docx.Document(io.BytesIO(stored)).tables for row in t.rows
                      for cell in row.cells)
    assert "因残" in printed

    # The month's report lists the contract's causes, 因残 with its figures.
    reviewer = staff(ctx, COUNTY).supervisor  # any principal of the county reads the report here
    with ctx.db.read() as session:
        report = reports.monthly(session, reviewer, COUNTY, f"{today:%Y-%m}")
    rows = {c["cause"]: c for c in report["breakdowns"]["cause"]}
    assert [labels.CAUSES.get(c) for c in rows] == ["因病", "因灾", "因学", "因残"]
    assert rows["disability"]["eligible"] == {"month": 1, "cumulative": 1}
    book = monthly_xlsx(report)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(book))["按原因"]
    header, *lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    eligible = header.index("认定符合（户）本月")
    assert [line[eligible] for line in lines if line[0] == "因残"] == [1]
    # The demo county's report keeps its three.
    with ctx.db.read() as session:
        demo_report = reports.monthly(session, staff(ctx, "340223").supervisor, "340223", f"{today:%Y-%m}")
    assert [labels.CAUSES.get(c["cause"]) for c in demo_report["breakdowns"]["cause"]] == ["因病", "因灾", "因学"]

    # Pages and templates name it from the contract.
    assert labels.CAUSES.get("disability") == "因残" and labels.CAUSES.get("nothing", "nothing") == "nothing"
    with ctx.db.read() as session:
        vocabulary = referrals.county_vocabulary(session, [COUNTY], today)
        demo_vocabulary = referrals.county_vocabulary(session, ["340223"], today)
    assert vocabulary.cause_names()["disability"] == "因残" and "disability" not in demo_vocabulary.cause_names()
    from openpyxl import load_workbook as open_book

    help_rows = list(open_book(io.BytesIO(template_xlsx(vocabulary)))["填写说明"].iter_rows(values_only=True))
    assert any("因残" in str(r[2]) and "因病" in str(r[2]) for r in help_rows)


def test_a_clerk_enters_an_application_for_a_county_cause(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        contract_store.add_contract(session, load_contract(HERE / "contracts" / "disability-2020.toml"),
                                    actor="admin", role="admin", clock=ctx.clock)
        accept_contract(session, "causes-2020", ctx.clock)  # as the county would
    s = staff(ctx, COUNTY)
    hh = demo.new_household("城关镇", "南村", members=2)
    referred = date(2020, 5, 20)
    case_id = demo.refer(ctx, demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2), hh, cause="残疾",
                         amount="8000.00", referred_on=referred, county=COUNTY)
    with ctx.db.read() as session:
        from verifier.store.tables import Case

        assert session.get(Case, case_id).cause == "disability"
    # In the demo county the same word is not a cause.
    d = staff(ctx, "340223")
    with pytest.raises(ValidationFailed) as exc:
        demo.refer(ctx, demo.Team(d.clerk, d.supervisor, d.officer1, d.officer2), hh, cause="因残",
                   amount="8000.00", referred_on=referred, county="340223")
    assert [e.field for e in exc.value.errors] == ["cause"]


def test_the_check_form_asks_the_basis_of_the_case_cause() -> None:
    from verifier.web.officer import rigid_fields

    contract, _ = check_contract_text(TEXT.encode("utf-8"))
    assert contract is not None
    disability, illness = contract.cause_table.cause("disability"), contract.cause_table.cause("illness")
    assert disability is not None and illness is not None
    assert dict(rigid_fields(disability))["other_rigid"] == "残疾康复支出"
    assert "other_rigid" not in dict(rigid_fields(illness))  # the demo's causes: the form as it was
    assert list(dict(rigid_fields(illness))) == ["medical_self_paid", "schooling", "disaster_loss"]
