"""The home cards 待审批批次, 待县级签批批次 and 待发放批次 count what the user can do now: a batch the step would refuse
to everyone (the contract not accepted by the county, the fund short of its total, a payee account held since it was
prepared) is not counted but said apart on the card and its list (另有 N 个批次暂不能…（reason）), and the batch's page
says why; the refusal comes from the same rule the step refuses by (`payments.batch_stops`), so the card's count is
what the step then takes. 待发放批次 counts by the release's own rule of who (`payments.deciders`: not the preparer,
nor an account linked to the preparer's by a password) and links to /payments?todo=release&to_decide=1."""

from __future__ import annotations

import re
from typing import Any

from factories import ready_case
from payments.payment_helpers import add_contract, seed_ready_cases
from sqlalchemy import select, update

from verifier.store.tables import Case, ContractRow, User

_TOTAL = re.compile(r"共 (\d+) 条")
X = "6217001122334455667"  # a payee account another household's case names after the batch was prepared


def _card(client: Any, users: Any, who: str, title: str) -> tuple[str, int, str]:
    """(link, count, note) of the user's home card `title`."""
    home = client.get("/", headers=users.headers(who))
    assert home.status_code == 200, home.text
    found = re.search(r'<a class="card" href="([^"]+)">\s*<div class="count">(\d+)</div>\s*<div class="title">'
                      + re.escape(title) + r'</div>\s*(?:<div class="note">([^<]*)</div>)?', home.text)
    assert found is not None, (who, title)
    return found.group(1).replace("&amp;", "&"), int(found.group(2)), found.group(3) or ""


def _listed(client: Any, users: Any, who: str, href: str) -> tuple[int, str]:
    r = client.get(href, headers=users.headers(who))
    assert r.status_code == 200, r.text
    totals = _TOTAL.findall(r.text)
    return (int(totals[0]) if totals else 0), r.text


def _rows(page: str) -> str:
    """The list's rows (after its explanation, before the failed payments' section)."""
    return page.split('id="to-decide"')[1].split('id="failed"')[0]


def _batch(client: Any, users: Any, who: str, county: str, case_ids: list[str] | None = None) -> tuple[str, str]:
    r = client.post("/api/payment-batches", headers=users.headers(who),
                    json={"county_code": county, **({"case_ids": case_ids} if case_ids else {})})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["code"]


def _contract_status(ctx: Any, contract_id: str, status: str) -> None:
    """As if the county had not (or no longer) accepted the contract (tests/insider/test_contract_gates.py)."""
    with ctx.db.begin() as session:
        session.execute(update(ContractRow).where(ContractRow.id == contract_id).values(status=status))


def _county_of(ctx: Any, case_id: str) -> str:
    with ctx.db.read() as session:
        return str(session.scalar(select(Case.county_code).where(Case.id == case_id)))


def test_the_approval_card_counts_neither_a_batch_the_fund_cannot_carry_nor_one_under_a_pending_contract(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    fine, short, pending = add_contract(ctx), add_contract(ctx, budget="100.00"), add_contract(ctx)
    counties = tuple(c.county_codes[0] for c in (fine, short, pending))
    for contract in (fine, short, pending):
        seed_ready_cases(ctx.db, ctx.vault, contract, 2, relief=300_000, clock=ctx.clock)
    for name, *roles in (("c1", "insurer_claims"), ("cf", "insurer_claims", "finance"), ("f1", "finance")):
        users.add(name, *roles, counties=counties)
    with ctx.db.read() as session:
        first = sorted(session.scalars(select(Case.id).where(Case.county_code == counties[0])))
    x, code_x = _batch(client, users, "c1", counties[0], first[:1])
    w, code_w = _batch(client, users, "cf", counties[0], first[1:])  # the preparer is a finance officer too
    y, code_y = _batch(client, users, "c1", counties[1])  # 6000 yuan against a budget of 100
    z, code_z = _batch(client, users, "c1", counties[2])
    _contract_status(ctx, pending.id, "pending")
    said = "另有 2 个批次暂不能审批（服务合同未经县级确认 1 个、资金余额不足 1 个）"
    for who, mine in (("f1", {code_x, code_w}), ("cf", {code_x})):
        href, count, note = _card(client, users, who, "待审批批次")
        assert (href, count) == ("/payments?todo=approve&to_decide=1", len(mine)), who
        assert note.startswith(said), (who, note)
        total, page = _listed(client, users, who, href)
        assert total == count, who  # the card counts what its link lists
        assert {c for c in (code_x, code_w, code_y, code_z) if c in _rows(page)} == mine, who
        assert said + "，请打开批次查看原因" in page, who
    # the insider: the preparer never sees his own batch as his to approve, and the step refuses him
    assert client.post(f"/api/payment-batches/{w}/approve", headers=users.headers("cf")).status_code == 403
    # the step refuses what the card leaves out, by the same words the batch's page says
    r = client.post(f"/api/payment-batches/{y}/approve", headers=users.headers("f1"))
    assert r.status_code == 409 and "将使资金余额不足" in r.text, r.text
    page = client.get(f"/payments/{y}", headers=users.headers("f1")).text
    assert f"本批次暂不能审批（资金余额不足）：审批批次 {code_y} 将使资金余额不足" in page
    r = client.post(f"/api/payment-batches/{z}/approve", headers=users.headers("f1"))
    assert r.status_code == 409 and "待县审核确认" in r.text, r.text
    assert "本批次暂不能审批（服务合同未经县级确认）" in client.get(f"/payments/{z}", headers=users.headers("f1")).text
    # and takes what it counts
    for batch in (x, w):
        assert client.post(f"/api/payment-batches/{batch}/approve", headers=users.headers("f1")).status_code == 200
    assert _card(client, users, "f1", "待审批批次")[:2] == ("/payments?todo=approve&to_decide=1", 0)
    # once the county accepts the contract, its batch is one to approve again
    _contract_status(ctx, pending.id, "accepted")
    href, count, note = _card(client, users, "f1", "待审批批次")
    assert count == 1 and note.startswith("另有 1 个批次暂不能审批（资金余额不足 1 个）"), note
    assert client.post(f"/api/payment-batches/{z}/approve", headers=users.headers("f1")).status_code == 200


def test_the_release_card_counts_what_this_finance_officer_may_release(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx)
    county = contract.county_codes[0]
    cases = seed_ready_cases(ctx.db, ctx.vault, contract, 2, relief=50_000, clock=ctx.clock)
    for name, *roles in (("c1", "insurer_claims"), ("cf", "insurer_claims", "finance"), ("f1", "finance"),
                         ("f2", "finance"), ("f_pal", "finance"), ("sup", "insurer_supervisor")):
        users.add(name, *roles, counties=(county,))
    with ctx.db.begin() as session:  # the preparer of batch A knows a password of f_pal's account
        session.get(User, users.ids["f_pal"]).password_set_by = users.ids["c1"]
    a, code_a = _batch(client, users, "c1", county, cases[:1])
    b, code_b = _batch(client, users, "cf", county, cases[1:])
    for batch in (a, b):
        assert client.post(f"/api/payment-batches/{batch}/approve", headers=users.headers("f1")).status_code == 200
    # the approver may release (the step's rule: the preparer may not, nor an account linked to the preparer's)
    expected = {"f1": {code_a, code_b}, "f2": {code_a, code_b}, "f_pal": {code_b}, "cf": {code_a}}
    for who, mine in expected.items():
        href, count, note = _card(client, users, who, "待发放批次")
        assert (href, count) == ("/payments?todo=release&to_decide=1", len(mine)), who
        assert not note.startswith("另有"), note
        total, page = _listed(client, users, who, href)
        assert total == count and {c for c in (code_a, code_b) if c in _rows(page)} == mine, who
    for who, batch in (("f_pal", a), ("cf", b)):
        assert client.post(f"/api/payment-batches/{batch}/release", headers=users.headers(who)).status_code == 403
    # a payee account held since the batch was approved: nobody's to release now, said apart
    held_case = ready_case(ctx, account_number=X, county=county)
    c, code_c = _batch(client, users, "c1", county, [held_case])
    assert client.post(f"/api/payment-batches/{c}/approve", headers=users.headers("f2")).status_code == 200
    ready_case(ctx, account_number=X, county=county)  # another household's case names the same account
    href, count, note = _card(client, users, "f2", "待发放批次")
    assert count == 2 and note.startswith("另有 1 个批次暂不能发放（收款账户待核实放行 1 个）"), (count, note)
    total, page = _listed(client, users, "f2", href)
    assert total == 2 and code_c not in _rows(page).split('id="stopped"')[1]
    r = client.post(f"/api/payment-batches/{c}/release", headers=users.headers("f2"))
    assert r.status_code == 422 and "一账多户" in r.text, r.text
    assert "本批次暂不能发放（收款账户待核实放行）" in client.get(f"/payments/{c}", headers=users.headers("f2")).text
    # f_pal, with nothing left of their own to release: the list says how many wait for someone else
    assert client.post(f"/api/payment-batches/{b}/release", headers=users.headers("f_pal")).status_code == 200
    total, page = _listed(client, users, "f_pal", "/payments?todo=release&to_decide=1")
    assert total == 0 and "没有等待您发放的批次。另有 2 个待发放的批次须由其他财务人员发放" in page, page


def test_the_signoff_card_leaves_out_a_batch_under_a_contract_the_county_no_longer_accepts(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx, signoff_at="5000.00")
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, 2, relief=300_000, clock=ctx.clock)
    for name, *roles in (("c1", "insurer_claims"), ("f1", "finance"), ("r1", "county_reviewer")):
        users.add(name, *roles, counties=(county,))
    batch, code = _batch(client, users, "c1", county)
    assert client.post(f"/api/payment-batches/{batch}/approve", headers=users.headers("f1")).status_code == 200
    assert _card(client, users, "r1", "待县级签批批次")[1] == 1
    _contract_status(ctx, contract.id, "pending")
    href, count, note = _card(client, users, "r1", "待县级签批批次")
    assert (href, count) == ("/payments?todo=signoff&to_decide=1", 0)
    assert note.startswith("另有 1 个批次暂不能签批（服务合同未经县级确认 1 个）"), note
    total, page = _listed(client, users, "r1", href)
    assert total == 0 and "另有 1 个批次暂不能签批（服务合同未经县级确认 1 个），请打开批次查看原因" in page
    r = client.post(f"/api/payment-batches/{batch}/county-signoff", json={"opinion": "同意"},
                    headers=users.headers("r1"))
    assert r.status_code == 409 and "待县审核确认" in r.text, r.text
    assert code in client.get("/payments?todo=signoff", headers=users.headers("r1")).text  # not hidden from the list


def test_a_batch_holding_a_case_held_after_its_approval_is_nobodys_to_release(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from deviation_helpers import approve, batch, both_found_ineligible, held_and_paid_in_a_round, person

    sampled = held_and_paid_in_a_round(ctx, client, users)  # claims1, fin1; the round drawn over both cases
    claims = person(ctx, users, "claims2", "insurer_claims")
    person(ctx, users, "fin2", "finance")
    batch_id = batch(ctx, claims, [sampled.held])
    approve(ctx, person(ctx, users, "fin3", "finance"), batch_id)
    assert _card(client, users, "fin2", "待发放批次")[1] == 1
    both_found_ineligible(ctx, client, sampled, "2666.67")  # the case is held, and stays in its approved batch
    href, count, note = _card(client, users, "fin2", "待发放批次")
    assert count == 0 and note.startswith("另有 1 个批次暂不能发放（有案件因抽样复核暂停支付 1 个）"), note
    assert _listed(client, users, "fin2", href)[0] == 0
    r = client.post(f"/api/payment-batches/{batch_id}/release", headers=users.headers("fin2"))
    assert r.status_code == 409 and "暂停支付" in r.text, r.text
    page = client.get(f"/payments/{batch_id}", headers=users.headers("fin2")).text
    assert "本批次暂不能发放（有案件因抽样复核暂停支付）：批次" in page
