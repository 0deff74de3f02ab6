"""The home page's 待审批批次 and 待县级签批批次 count the batches the user may approve or sign off, by the rule the
step itself refuses by (`payments.deciders.refusals`): never one the user prepared (or approved, to sign off), nor one
whose payee the user changed, nor one whose preparer's or approver's account is linked to the user's by a password,
nor one paying a household the user is tied to (回避). Each card links to /payments?todo=…&to_decide=1, which lists
exactly those and, empty, says how many wait for someone else; the step refuses the very ones the card leaves out."""

from __future__ import annotations

import re
from typing import Any

from deviation_helpers import person
from factories import ready_case
from insider_kit import declare_ties, household_member, payee_changed
from payments.payment_helpers import add_contract, seed_ready_cases
from sqlalchemy import select

from verifier.store.tables import Case, User

_TOTAL = re.compile(r"共 (\d+) 条")


def _set_password_of(ctx: Any, users: Any, account: str, by: str) -> None:
    with ctx.db.begin() as session:
        session.get(User, users.ids[account]).password_set_by = users.ids[by]


def _card(client: Any, users: Any, who: str, title: str) -> tuple[str, int]:
    home = client.get("/", headers=users.headers(who))
    assert home.status_code == 200, home.text
    found = re.search(r'<a class="card" href="([^"]+)">\s*<div class="count">(\d+)</div>\s*<div class="title">'
                      + re.escape(title) + "<", home.text)
    assert found is not None, (who, title)
    return found.group(1).replace("&amp;", "&"), int(found.group(2))


def _listed(client: Any, users: Any, who: str, href: str) -> tuple[int, str]:
    """(how many the list says it holds, the page)."""
    r = client.get(href, headers=users.headers(who))
    assert r.status_code == 200, r.text
    totals = _TOTAL.findall(r.text)
    if not totals:
        assert 'id="payments-none"' in r.text, r.text
        return 0, r.text
    return int(totals[0]), r.text


def _batch(client: Any, users: Any, who: str, county: str, case_ids: list[str]) -> tuple[str, str]:
    r = client.post("/api/payment-batches", headers=users.headers(who), json={"county_code": county,
                                                                             "case_ids": case_ids})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["code"]


def test_the_approval_card_counts_what_the_approval_would_take(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    for name, *roles in (("c1", "insurer_claims"), ("cf", "insurer_claims", "finance"), ("f1", "finance"),
                         ("f_pal", "finance"), ("f2", "finance"), ("f_tied", "finance"),
                         ("sup", "insurer_supervisor")):
        person(ctx, users, name, *roles)
    _set_password_of(ctx, users, "f_pal", by="c1")  # the preparer of batch A knows a password of f_pal's account
    one, two = ready_case(ctx), ready_case(ctx)
    payee_changed(client, users, one, by="sup", approver="f2", account="6222020000000066661")  # f2's hand in A
    declare_ties(client, users.headers("f_tied"), household_member(ctx, two)[2])  # f_tied is tied to B's household
    with ctx.db.read() as session:
        county = session.get(Case, one).county_code
    a, code_a = _batch(client, users, "c1", county, [one])
    b, code_b = _batch(client, users, "cf", county, [two])
    expected = {"f1": {a, b}, "f_pal": {b}, "cf": {a}, "f2": {b}, "f_tied": {a}}
    for who, mine in expected.items():
        href, count = _card(client, users, who, "待审批批次")
        assert (href, count) == ("/payments?todo=approve&to_decide=1", len(mine)), who
        total, page = _listed(client, users, who, href)
        assert total == count, who  # the card counts what its link lists
        assert {x for x, code in ((a, code_a), (b, code_b)) if code in page.split('id="to-decide"')[1]} == mine, who
    # all waiting, whoever may approve them, as before
    assert _listed(client, users, "f_pal", "/payments?todo=approve")[0] == 2
    # the approval refuses the very ones the card leaves out, and takes the others
    for who, batch, status in (("f_pal", a, 403), ("cf", b, 403), ("f2", a, 403), ("f_tied", b, 422)):
        r = client.post(f"/api/payment-batches/{batch}/approve", headers=users.headers(who))
        assert r.status_code == status, (who, r.text)
    assert client.post(f"/api/payment-batches/{a}/approve", headers=users.headers("f1")).status_code == 200
    assert _card(client, users, "f1", "待审批批次")[1] == 1


def test_the_signoff_card_counts_neither_the_approvers_batch_nor_a_linked_accounts(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx, signoff_at="5000.00")
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, 2, relief=300_000, clock=ctx.clock)
    for name, *roles in (("c1", "insurer_claims"), ("fr", "finance", "county_reviewer"), ("r1", "county_reviewer"),
                         ("r_pal", "county_reviewer")):
        users.add(name, *roles, counties=(county,))
    _set_password_of(ctx, users, "r_pal", by="fr")  # the approver knows a password of r_pal's account
    with ctx.db.read() as session:
        ids = sorted(session.scalars(select(Case.id).where(Case.county_code == county)))
    batch, code = _batch(client, users, "c1", county, ids)
    assert client.post(f"/api/payment-batches/{batch}/approve", headers=users.headers("fr")).status_code == 200
    seen = {who: _card(client, users, who, "待县级签批批次") for who in ("fr", "r_pal", "r1")}
    assert seen == {who: ("/payments?todo=signoff&to_decide=1", n) for who, n in (("fr", 0), ("r_pal", 0),
                                                                                   ("r1", 1))}
    total, page = _listed(client, users, "r1", "/payments?todo=signoff&to_decide=1")
    assert total == 1 and code in page
    for who in ("fr", "r_pal"):  # none for them, and the list says the one waiting is another's to sign off
        total, page = _listed(client, users, who, "/payments?todo=signoff&to_decide=1")
        assert total == 0 and code not in page.split('id="to-decide"')[1]
        assert "没有等待您签批的批次。另有 1 个待县级签批的批次须由其他县级复核人员签批" in page
    for who in ("fr", "r_pal"):
        r = client.post(f"/api/payment-batches/{batch}/county-signoff", json={"opinion": "同意"},
                        headers=users.headers(who))
        assert r.status_code == 403, (who, r.text)
    r = client.post(f"/api/payment-batches/{batch}/county-signoff", json={"opinion": "同意"},
                    headers=users.headers("r1"))
    assert r.status_code == 200, r.text
    assert _card(client, users, "r1", "待县级签批批次")[1] == 0


def test_the_lists_workbook_holds_what_it_lists(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """/payments?todo=approve&to_decide=1's export link (and the API's) gives the batches the list shows."""
    import io

    from openpyxl import load_workbook

    for name, *roles in (("c1", "insurer_claims"), ("f1", "finance"), ("f_pal", "finance")):
        person(ctx, users, name, *roles)
    _set_password_of(ctx, users, "f_pal", by="c1")
    case_id = ready_case(ctx)
    with ctx.db.read() as session:
        county = session.get(Case, case_id).county_code
    _, code = _batch(client, users, "c1", county, [case_id])
    page = _listed(client, users, "f1", "/payments?todo=approve&to_decide=1")[1]
    assert 'href="/payments/export.xlsx?todo=approve&amp;to_decide=1"' in page
    for who, holds in (("f1", True), ("f_pal", False)):
        for path in ("/payments/export.xlsx", "/api/payment-batches/export.xlsx"):
            got = client.get(f"{path}?todo=approve&to_decide=1", headers=users.headers(who))
            assert got.status_code == 200, got.text
            sheet = load_workbook(io.BytesIO(got.content))["支付批次"]
            assert (code in {c.value for row in sheet.iter_rows() for c in row}) is holds, (who, path)
