"""The API's case list (`service.list_cases`) and the office's list page (`listing.find_cases`) filter through one
builder: for the same filters they give the same cases, within the caller's counties."""

from __future__ import annotations

import pytest
from factories import COUNTY, make_case, staff
from sqlalchemy import select

from verifier.cases import listing, service
from verifier.store.tables import Visit

FILTERS = [
    {},
    {"status": "scheduled"},
    {"status": "received", "village": "西村"},
    {"county_code": "340223", "town": "城关镇", "village": "东村"},
    {"cause": "disaster"},
    {"cause": "illness", "status": "determined"},
    {"county_code": "340224"},
    {"village": "无此村"},
]


@pytest.fixture
def cases(ctx, other_county):  # type: ignore[no-untyped-def]
    made = [make_case(ctx, stage="received", village="西村"),
            make_case(ctx, stage="scheduled"),
            make_case(ctx, stage="scheduled", village="西村", cause="disaster"),
            make_case(ctx, stage="determined"),
            make_case(ctx, stage="checked", cause="disaster"),
            make_case(ctx, stage="received", county=other_county)]
    return made


def _both(ctx, principal, filters):  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        api, _ = service.list_cases(session, principal, service.CaseFilter(**filters, limit=500))
        page = listing.find_cases(session, principal, listing.CaseQuery(**filters, page_size=500), ctx.vault)
        return sorted(c.id for c in api), sorted(c.id for c in page.cases)


@pytest.mark.parametrize("filters", FILTERS, ids=[",".join(f) or "none" for f in FILTERS])
def test_the_api_and_the_page_list_the_same_cases(ctx, cases, filters) -> None:  # type: ignore[no-untyped-def]
    api, page = _both(ctx, staff(ctx).supervisor, filters)
    assert api == page
    if not filters:
        assert set(api) == set(cases[:5])  # the other county's case is not the supervisor's


def test_by_officer_and_within_a_set_too(ctx, cases) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        visit = session.scalar(select(Visit).where(Visit.case_id == cases[1], Visit.active.is_(True)))
        officer = visit.officer_ids[0]
    principal = staff(ctx).supervisor
    api, page = _both(ctx, principal, {"officer": officer})
    assert api == page and cases[1] in api and cases[0] not in api
    within = select(Visit.case_id).where(Visit.case_id.in_(cases[2:4]))
    api, page = _both(ctx, principal, {"within": within, "status": "scheduled"})
    assert api == page == [cases[2]]


def test_a_search_for_a_masked_id_number_finds_nothing_without_failing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A search the list cannot read as a name, number or ID number (a masked ID number copied from a page) finds
    nothing: the ledger and the list answer, never a 500."""
    make_case(ctx, stage="determined")
    users.add("searcher", "auditor", counties=(COUNTY,))
    headers = users.headers("searcher")
    for url in ("/api/cases/ledger.xlsx", "/api/cases"):
        r = client.get(url, params={"q": "340223********0035"}, headers=headers)
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
    assert client.get("/api/cases", params={"q": "340223********0035"}, headers=headers).json()["items"] == []
