"""The case list page's read (`listing.read_page` on a reader: prepared statements, days as text) gives the cases
the session's read gives (`find_cases`, the API's list), in the same order, with the same due dates as
`due_dates` computes from the cases themselves, and the villages and contracts the page names."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import msgspec
import pytest
from factories import make_case, other_county_contract, staff
from module_kit import module_context
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from verifier.accounts.auth import Principal
from verifier.audit.log import tree_size
from verifier.cases import listing
from verifier.cases import service as case_service
from verifier.store.base import new_id
from verifier.store.contracts import all_contracts
from verifier.store.tables import Case, Determination, ReviewRequest

OTHER_COUNTY = "340224"  # cases/conftest.py's
SORTS = [s for name in listing.SORTS for s in (name, f"-{name}")]


def _cases(ctx, other_county: str) -> list[str]:  # type: ignore[no-untyped-def]
    today = ctx.clock.today()
    made = [make_case(ctx, stage="received", village="西村", head_name="欧阳修远", referred_on=today - timedelta(days=9)),
            make_case(ctx, stage="scheduled", head_name="司马光明", referred_on=today - timedelta(days=2)),
            make_case(ctx, stage="scheduled", village="西村", cause="disaster", head_name="王_小%明"),
            make_case(ctx, stage="determined", head_name="诸葛亮", referred_on=today - timedelta(days=5)),
            make_case(ctx, stage="checked", cause="disaster", head_name="欧小红"),
            make_case(ctx, stage="received", head_name="王五"),
            make_case(ctx, stage="received", county=other_county, head_name="欧阳别县")]
    # A review request of the determined case: its due date counts from the day the request came in.
    with ctx.db.begin() as session:
        determination = session.scalar(select(Determination.id).where(Determination.case_id == made[3]))
        session.add(ReviewRequest(id=new_id("rr"), case_id=made[3], determination_id=determination,
                                  received_on=today - timedelta(days=1), summary="复核", recorded_by="test",
                                  recorded_at=ctx.clock.now()))
    return made


@pytest.fixture(scope="module")
def listed(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The module's context (module_kit: a database of its own) and the cases above, made once: the tests that use
    them only read, and the audit log is checked afterwards to be as long as they found it."""
    with module_context(tmp_path_factory) as ctx:
        made = _cases(ctx, other_county_contract(ctx, OTHER_COUNTY))
        staff(ctx)  # the readers below, made before the first test
        with ctx.db.read() as session:
            entries = tree_size(session)
        yield ctx, made
        with ctx.db.read() as session:
            assert tree_size(session) == entries, "a test that only reads wrote"


QUERIES = [
    *[listing.CaseQuery(sort=s) for s in SORTS],
    *[listing.CaseQuery(sort=s, page=p, page_size=2) for s in ("number", "-due", "head") for p in (1, 2, 3, 9)],
    listing.CaseQuery(status="received"),
    listing.CaseQuery(status="scheduled", village="西村", sort="-received"),
    listing.CaseQuery(cause="disaster", town="城关镇"),
    listing.CaseQuery(county_code="340224"),
    listing.CaseQuery(q="欧"),
    listing.CaseQuery(q="_小%"),  # LIKE's wildcards are matched as themselves
    listing.CaseQuery(q="%"),
    listing.CaseQuery(q="1"),
    listing.CaseQuery(q="000002"),
    listing.CaseQuery(q="340223-2020-000003", sort="-status"),
]


def _read(ctx, principal, query):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as reader:
        page = listing.read_page(reader, principal, query, ctx.vault, sqlite=ctx.db.is_sqlite)
    with ctx.db.read() as session:
        found = listing.find_cases(session, principal, query, ctx.vault)
        objects = {c.id: c for c in session.scalars(select(Case).options(joinedload(Case.household))
                                                     .where(Case.id.in_([r.id for r in found.cases])))}
        due = case_service.due_dates(session, list(objects.values())) if objects else {}
        session.expunge_all()
    return page, found, objects, due


@pytest.mark.parametrize("query", QUERIES, ids=[f"q{i}" for i in range(len(QUERIES))])
def test_the_page_reads_what_the_session_reads(listed, query) -> None:  # type: ignore[no-untyped-def]
    ctx, _ = listed
    for principal in (staff(ctx).supervisor, staff(ctx).clerk):
        page, found, objects, due = _read(ctx, principal, query)
        assert (page.found.total, page.found.page, page.found.pages) == (found.total, found.page, found.pages)
        assert [r.id for r in page.found.cases] == [r.id for r in found.cases]
        for row, full in zip(page.found.cases, found.cases):
            case = objects[row.id]
            assert (row.number, row.status, row.town, row.village, row.household_group, row.cause,
                    row.reported_amount, row.household_id, row.head_name) == (
                case.number, case.status, case.town, case.village, case.household_group, case.cause,
                case.reported_amount, case.household_id, case.household.head_name)
            assert row.referred_on == case.referred_on.isoformat() and full.referred_on == case.referred_on
            assert row.due == due[row.id].isoformat() and full.due == due[row.id]


def test_the_default_order_total_and_last_page_against_the_cases_themselves(listed) -> None:  # type: ignore[no-untyped-def]
    ctx, _ = listed
    principal = staff(ctx).supervisor
    with ctx.db.read() as session:
        numbers = sorted(session.scalars(select(Case.number).where(Case.county_code.in_(principal.counties))))
    assert len(numbers) == 6  # the other county's case is not the supervisor's
    query = listing.CaseQuery(page_size=4)
    for page, wanted in ((1, numbers[:4]), (2, numbers[4:]), (7, numbers[4:])):  # past the last: the last
        read, _, _, _ = _read(ctx, principal, replace(query, page=page))
        assert [r.number for r in read.found.cases] == wanted
        assert (read.found.total, read.found.page, read.found.pages) == (6, min(page, 2), 2)


def test_the_review_request_moves_the_due_date(listed) -> None:  # type: ignore[no-untyped-def]
    ctx, cases = listed
    read, _, _, _ = _read(ctx, staff(ctx).supervisor, listing.CaseQuery(sort="due"))
    row = next(r for r in read.found.cases if r.id == cases[3])
    with ctx.db.read() as session:
        days = session.scalar(select(Case.contract_id).where(Case.id == cases[3]))
        within = next(c for c in all_contracts(session) if c.id == days).spec.deadlines.check_within_days
    assert row.due == (ctx.clock.today() - timedelta(days=1) + timedelta(days=within)).isoformat()


def test_villages_and_contracts_come_with_the_page(listed) -> None:  # type: ignore[no-untyped-def]
    ctx, _ = listed
    with ctx.db.reader() as reader:
        read = listing.read_page(reader, staff(ctx).supervisor, listing.CaseQuery(), ctx.vault,
                                 sqlite=ctx.db.is_sqlite)
        alone = listing.read_villages(reader, staff(ctx).supervisor)
    assert read.villages == alone == [("城关镇", "东村"), ("城关镇", "西村")]
    with ctx.db.read() as session:
        assert [c.id for c in read.contracts] == [c.id for c in all_contracts(session)]


def test_a_reader_does_not_filter_by_officer_or_within(listed) -> None:  # type: ignore[no-untyped-def]
    ctx, _ = listed
    with ctx.db.reader() as reader, pytest.raises(ValueError):
        listing.read_page(reader, staff(ctx).supervisor, listing.CaseQuery(officer="u_x"), ctx.vault,
                          sqlite=ctx.db.is_sqlite)


@pytest.mark.parametrize("q, wanted", [("_小%", [2]), ("%", [2]), ("_", [2]), ("欧阳别县", [])])
def test_a_name_is_matched_as_typed(listed, q, wanted) -> None:  # type: ignore[no-untyped-def]
    """LIKE's wildcards in a search are the characters themselves; another county's name is not found."""
    ctx, cases = listed
    read, _, _, _ = _read(ctx, staff(ctx).supervisor, listing.CaseQuery(q=q))
    assert sorted(r.id for r in read.found.cases) == sorted(cases[i] for i in wanted)


def test_the_villages_are_every_town_and_village_of_the_counties_cases(ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    """The filter's villages are found a seek at a time (`_villages_skipping`): the pairs SELECT DISTINCT finds, in
    its order, for one county, two, and every county; none of another county's."""
    places = [("城关镇", "西村"), ("河口镇", "柳树村"), ("城关镇", "东村"), ("城关镇", "西村"), ("河口镇", "河口村"),
              ("白沙乡", "白沙村"), ("河口镇", "柳树村")]
    for town, village in places:
        make_case(ctx, stage="received", town=town, village=village)
    make_case(ctx, stage="received", town="外县镇", village="外县村", county=other_county)
    make_case(ctx, stage="received", town="城关镇", village="北村", county=other_county)
    ours = sorted(set(places))
    one = Principal(id="u_v", username="v", display_name="v", roles=("insurer_supervisor",), counties=("340223",))
    both = msgspec.structs.replace(one, counties=(other_county, "340223"))
    every = msgspec.structs.replace(one, counties=())
    with ctx.db.reader() as reader:
        found = {p: listing.read_villages(reader, p) for p in (one, both, every)}
    with ctx.db.read() as session:
        plain = {p: [tuple(r) for r in session.execute(
            select(Case.town, Case.village).distinct()
            .where(*([Case.county_code.in_(p.counties)] if p.counties else []))
            .order_by(Case.town, Case.village))] for p in (one, both, every)}
    assert found[one] == plain[one] == ours
    assert found[both] == plain[both] == sorted({*ours, ("外县镇", "外县村"), ("城关镇", "北村")})
    assert found[every] == plain[every]
    assert found[both] != found[one]


def _typings(number: str) -> list[str]:
    county, year, seq = number.split("-")
    return [f"{year}-{seq}", f"{year}-{int(seq)}", f"{county} {year} {seq}", f"{county}{year}{seq}",
            f"{county}/{year}/{seq}", f" {year} - {seq} ", f"{county}—{year}—{seq}"]


def test_a_case_number_is_found_as_a_clerk_types_it_off_paper(listed) -> None:  # type: ignore[no-untyped-def]
    """The year and sequence without the county (one county's office leaves it out), the parts spaced or slashed
    instead of dashed, or run together: each finds the case, on the page's read and the session's (the year and
    sequence once found nothing on the case list while the other lists' searches found them)."""
    ctx, cases = listed
    with ctx.db.read() as session:
        number = session.scalar(select(Case.number).where(Case.id == cases[2]))
    for typed in _typings(number):
        read, found, _, _ = _read(ctx, staff(ctx).supervisor, listing.CaseQuery(q=typed))
        assert [r.id for r in read.found.cases] == [cases[2]], typed
        assert [r.id for r in found.cases] == [cases[2]], typed
