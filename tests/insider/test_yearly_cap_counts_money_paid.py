"""The contract's yearly cap per household, cause and year is read against the money the household had, not against
its determinations alone (payments/year_paid.py). Before, "already paid" was the relief of the household's paid cases:
a supplement (补发) a county re-check opened and a second reviewer confirmed was paid on top of it, and the next case
of the same cause and year was priced as if it had never been paid (130,000 against a 100,000 cap); a re-check was
capped at `cap_per_year` for its one case, so a re-check of a household paid up to the cap opened a supplement past
it, and a disaster re-check of a one-member household (capped at 30,000 a member) was taken at 100,000; and a
recovery (追回) repaid still counted as paid, so the next case was paid short."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from deviation_helpers import drawn_round, pay, person, ready_case, relief_of
from factories import COUNTY, staff
from insider_kit import receipt_followup
from sampling.sampling_helpers import rounds  # noqa: F401  (the fixture)
from sqlalchemy import event, select

from verifier import demo
from verifier.cases.workflow import advance, load_case
from verifier.checks import service as checks
from verifier.domain.money import format_yuan
from verifier.payments import recoveries, year_paid
from verifier.payments.models import PaymentItem, Recovery, SupplementaryPayment
from verifier.store.tables import Determination

INCOME = "2666.67"
CAP = 10_000_000  # the demo contract's cap_per_year for illness: 100,000 yuan


def _ready(ctx: Any, case_id: str, clerk: Any) -> None:
    """Village review passed, notice posted and closed (the stages' own tests cover them)."""
    with ctx.db.begin() as session:
        case = load_case(session, case_id, None, for_update=True)
        for action in ("review_pass", "post_notice", "close_notice"):
            advance(session, case, action, actor=clerk, role="town_clerk", clock=ctx.clock)


class Household:
    """A household whose first illness case is paid (`first`, 21,900 yuan), and the people who paid it."""

    def __init__(self, ctx: Any, users: Any) -> None:
        self.ctx, self.users = ctx, users
        self.staff = staff(ctx)
        self.hh = demo.new_household("城关镇", "东村", members=3, group="exited_low_standard")
        team = demo.Team(self.staff.clerk, self.staff.supervisor, self.staff.officer1, self.staff.officer2)
        self.first = demo.refer(ctx, team, self.hh, referred_on=ctx.clock.today())
        demo.advance_to(ctx, team, self.first, self.hh, "determined", on=ctx.clock.today(), vehicle="车01")
        _ready(ctx, self.first, self.staff.clerk)
        self.claims = person(ctx, users, "claims1", "insurer_claims")
        self.fin = person(ctx, users, "fin1", "finance")
        pay(ctx, self.claims, self.fin, [self.first])

    def next_case(self, client: Any, *, determined: bool = True, cost: int = 15_000_000) -> str:
        """The household's second illness case of the year (by default a large cost: 150,000), checked, and
        determined unless `determined` is false."""
        self.users.add("clerk2", "town_clerk", counties=(COUNTY,))
        r = client.post("/api/referrals", headers=self.users.headers("clerk2"), json={
            "county_code": COUNTY, "id_number": self.hh.id_numbers[0], "name": self.hh.head, "town": self.hh.town,
            "village": self.hh.village, "household_group": self.hh.group, "cause": "illness", "amount": format_yuan(cost),
            "referred_on": self.ctx.clock.today().isoformat()})
        assert r.status_code == 201, r.text
        second = r.json()["case_id"]
        self.ctx.clock.advance(days=1)
        s2 = staff(self.ctx, team=1)
        demo.advance_to(self.ctx, demo.Team(self.staff.clerk, self.staff.supervisor, s2.officer1, s2.officer2),
                        second, self.hh, "determined" if determined else "checked", on=self.ctx.clock.today(),
                        vehicle="车02", cost=cost)
        return second


def _paid(ctx: Any, *case_ids: str) -> int:
    with ctx.db.read() as s:
        return sum(s.scalars(select(PaymentItem.amount).where(PaymentItem.case_id.in_(case_ids),
                                                              PaymentItem.status == "succeeded")))


def _determination(ctx: Any, case_id: str) -> Determination:
    with ctx.db.read() as s:
        det = s.scalars(select(Determination).where(Determination.case_id == case_id)).one()
        s.expunge(det)
        return det


def _supplement(ctx: Any, case_id: str) -> SupplementaryPayment:
    with ctx.db.read() as s:
        sup = s.scalars(select(SupplementaryPayment).where(SupplementaryPayment.case_id == case_id)).one()
        s.expunge(sup)
        return sup


def _found_more(ctx, rounds, case_id: str, relief: int) -> SupplementaryPayment:  # type: ignore[no-untyped-def]
    """The county's re-check of `case_id` (paid `relief`) finds 30,000 more: its supplement, not yet confirmed."""
    round_id = drawn_round(rounds, {case_id})
    rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=True,
                  relief_amount=format_yuan(relief + 3_000_000))
    return _supplement(ctx, case_id)


def test_a_paid_supplement_counts_when_the_next_case_is_priced(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    home = Household(ctx, users)
    first_relief = relief_of(ctx, home.first)
    # the county's re-check of the first case finds 30,000 more: a supplement, confirmed by a second reviewer, paid
    sup = _found_more(ctx, rounds, home.first, first_relief)
    person(ctx, users, "rev2", "county_reviewer")
    r = client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    pay(ctx, home.claims, home.fin, [home.first])
    assert _paid(ctx, home.first) == first_relief + 3_000_000
    # the next case of the cause and year is priced on the money paid, and the household stays within the cap
    second = home.next_case(client)
    det = _determination(ctx, second)
    assert det.already_paid == first_relief + 3_000_000
    assert det.relief == CAP - det.already_paid and det.capped
    assert _paid(ctx, home.first) + det.relief == CAP


def test_a_recheck_of_the_next_case_at_the_cap_is_refused(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    home = Household(ctx, users)
    second = home.next_case(client)
    _ready(ctx, second, home.staff.clerk)
    pay(ctx, home.claims, home.fin, [second])
    assert _paid(ctx, home.first, second) == CAP
    round_id = drawn_round(rounds, {second})
    body = rounds.result(round_id, second, status=422, per_capita_income=INCOME, eligible=True,
                         relief_amount=format_yuan(CAP))
    detail = str(body)
    room = CAP - relief_of(ctx, home.first)
    assert "relief_amount" in detail and f"最多 {format_yuan(room)} 元" in detail, detail
    assert "年度上限 100000.00 元" in detail and f"已发放或待发放 {format_yuan(relief_of(ctx, home.first))} 元" in detail
    with ctx.db.read() as s:
        assert s.scalar(select(SupplementaryPayment.id).where(SupplementaryPayment.case_id == second)) is None
    # the figure the cap leaves is taken: the insurer's relief stands, nothing to pay
    out = rounds.result(round_id, second, per_capita_income=INCOME, eligible=True, relief_amount=format_yuan(room))
    assert out["deviation"] is False, out


def test_a_disaster_recheck_above_the_cap_per_member_is_refused(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    # a one-member household's disaster loss of 50,000: 40,000 above the deductible, capped at 30,000 a member
    case_id = ready_case(ctx, cause="disaster", members=1, medical=5_000_000)
    assert relief_of(ctx, case_id) == 3_000_000
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin = person(ctx, users, "fin1", "finance")
    pay(ctx, claims, fin, [case_id])
    round_id = drawn_round(rounds, {case_id})
    body = rounds.result(round_id, case_id, status=422, per_capita_income=INCOME, eligible=True,
                         relief_amount="100000.00")
    assert "relief_amount" in str(body) and "最多 30000.00 元" in str(body) and "年度上限 30000.00 元" in str(body), body
    with ctx.db.read() as s:
        assert s.scalar(select(SupplementaryPayment.id).where(SupplementaryPayment.case_id == case_id)) is None
    out = rounds.result(round_id, case_id, per_capita_income="8000.00", eligible=True, relief_amount="30000.00")
    assert out["deviation"] is False, out


def test_a_supplement_confirmed_after_the_next_case_is_determined_is_refused(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    home = Household(ctx, users)
    first_relief = relief_of(ctx, home.first)
    sup = _found_more(ctx, rounds, home.first, first_relief)
    # the next case is determined while the supplement waits for its confirmation: up to the cap
    second = home.next_case(client)
    assert first_relief + relief_of(ctx, second) == CAP
    person(ctx, users, "rev2", "county_reviewer")
    r = client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "年度上限 100000.00 元" in detail and "最多还可补发 0.00 元" in detail, detail
    assert _supplement(ctx, home.first).confirmed_by is None


def test_a_repaid_recovery_frees_the_cap_room_not_the_pricing(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    home = Household(ctx, users)
    first_relief = relief_of(ctx, home.first)
    # the county's re-check of the first case finds 10,000 less: a recovery opens
    round_id = drawn_round(rounds, {home.first})
    rounds.result(round_id, home.first, per_capita_income=INCOME, eligible=True,
                  relief_amount=format_yuan(first_relief - 1_000_000))
    second = home.next_case(client, determined=False)
    supervisor = staff(ctx).supervisor
    with ctx.db.read() as s:
        rec = s.scalars(select(Recovery).where(Recovery.case_id == home.first)).one()
        # while it is not repaid, the household still has the money
        assert checks.determine(s, second, confirm=False, principal=supervisor,
                                clock=ctx.clock).quote.already_paid == first_relief
    _repaid(ctx, home, rec.id, 1_000_000)
    with ctx.db.begin() as s:
        a = checks.determine(s, second, confirm=True, principal=supervisor, clock=ctx.clock)
    # the case is priced on the basis and on what was granted on it: the recovered 10,000 does not come back here
    assert a.quote is not None and a.quote.already_paid == first_relief
    assert a.quote.amount == CAP - first_relief
    # but the money the household had is what a re-check of the case, or a supplement, has room for
    with ctx.db.read() as s:
        cap = year_paid.room(s, load_case(s, second, None))
    assert cap is not None and (cap.taken, cap.left) == (first_relief - 1_000_000, CAP - first_relief + 1_000_000)


def _repaid(ctx: Any, home: Household, recovery_id: str, amount: int) -> None:
    """The household repaid `amount` of the recovery: recorded by one finance officer, confirmed by another."""
    with ctx.db.begin() as s:
        row = recoveries.record_repayment(s, recovery_id, amount=format_yuan(amount), paid_on=date(2020, 6, 1),
                                          reference="RK-CAP-1", principal=home.fin, clock=ctx.clock)
    other = person(ctx, home.users, "fin2", "finance")
    with ctx.db.begin() as s:
        recoveries.confirm_repayment(s, row["id"], principal=other, clock=ctx.clock)


@pytest.mark.parametrize("found", ["less", "ineligible"])
def test_a_repaid_recovery_is_not_paid_back_through_the_next_case(ctx, client, rounds, users, found) -> None:  # type: ignore[no-untyped-def]
    """The first case (costs 42,000) was paid 21,900; the county found 10,000 too much (or the household ineligible)
    and the household repaid it. The next case (10,000 of costs) is priced on the cumulative 52,000: 28,900 less
    the 21,900 granted, 7,000, before the repayment and after it (the money alone would give back what was
    recovered: 17,000, or 28,900)."""
    home = Household(ctx, users)
    first_relief = relief_of(ctx, home.first)
    round_id = drawn_round(rounds, {home.first})
    if found == "less":
        rounds.result(round_id, home.first, per_capita_income=INCOME, eligible=True,
                      relief_amount=format_yuan(first_relief - 1_000_000))
    else:
        rounds.result(round_id, home.first, per_capita_income="9000.00", eligible=False)
    second = home.next_case(client, determined=False, cost=1_000_000)
    supervisor = staff(ctx).supervisor
    with ctx.db.read() as s:
        rec = s.scalars(select(Recovery).where(Recovery.case_id == home.first)).one()
        before = checks.determine(s, second, confirm=False, principal=supervisor, clock=ctx.clock).quote
    assert before is not None and before.amount == 700_000
    _repaid(ctx, home, rec.id, rec.amount)
    with ctx.db.begin() as s:
        a = checks.determine(s, second, confirm=True, principal=supervisor, clock=ctx.clock)
    assert a.quote is not None and (a.quote.amount, a.quote.already_paid) == (700_000, first_relief)
    assert _determination(ctx, second).relief == 700_000


def test_a_misdirected_supplement_is_not_paid_twice_through_the_next_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The first case's 21,900 went to another account: a follow-up closed as 核实未收到 recovers it whole and opens
    its supplement (补发), not yet confirmed. The next case (10,000 of costs) is priced 7,000, not 28,900 as if
    nothing had been paid; and the supplement, open, counts against the cap from its opening."""
    home = Household(ctx, users)
    first_relief = relief_of(ctx, home.first)
    person(ctx, users, "off9", "field_officer")
    person(ctx, users, "rev1", "county_reviewer")
    person(ctx, users, "rev2", "county_reviewer")
    fid = receipt_followup(client, users, home.first, ctx.clock.today().isoformat(), "no", "0")
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    sup_id = r.json()["supplement_id"]
    with ctx.db.read() as s:
        first = load_case(s, home.first, None)
        assert year_paid.year_paid(s, first) == year_paid.YearPaid(0, first_relief)
    second = home.next_case(client, cost=1_000_000)
    det = _determination(ctx, second)
    assert (det.relief, det.already_paid) == (700_000, first_relief)
    r = client.post(f"/api/supplements/{sup_id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    # what the household gets for the year: the supplement and the next case, 28,900 for its 52,000 of costs
    assert _supplement(ctx, home.first).amount + det.relief == 2_890_000


def test_a_held_case_is_not_raised_past_what_the_cap_leaves(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    home = Household(ctx, users)
    first_relief = relief_of(ctx, home.first)
    # the next case costs 60,000: priced on the cumulative 102,000 less what was paid, 42,000, well under the cap
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    r = client.post("/api/referrals", headers=users.headers("clerk2"), json={
        "county_code": COUNTY, "id_number": home.hh.id_numbers[0], "name": home.hh.head, "town": home.hh.town,
        "village": home.hh.village, "household_group": home.hh.group, "cause": "illness", "amount": "60000.00",
        "referred_on": ctx.clock.today().isoformat()})
    second = r.json()["case_id"]
    ctx.clock.advance(days=1)
    s2 = staff(ctx, team=1)
    demo.advance_to(ctx, demo.Team(home.staff.clerk, home.staff.supervisor, s2.officer1, s2.officer2), second, home.hh,
                    "determined", on=ctx.clock.today(), vehicle="车02", cost=6_000_000)
    assert relief_of(ctx, second) == 4_200_000
    room = CAP - first_relief
    round_id = drawn_round(rounds, {home.first, second})
    # the county finds the second case due what the cap leaves (held), and the first one 10,000 short (a supplement)
    rounds.result(round_id, second, per_capita_income=INCOME, eligible=True, relief_amount=format_yuan(room))
    rounds.result(round_id, home.first, per_capita_income=INCOME, eligible=True,
                  relief_amount=format_yuan(first_relief + 1_000_000))
    person(ctx, users, "rev2", "county_reviewer")
    r = client.post(f"/api/supplements/{_supplement(ctx, home.first).id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    # raising the held case to the re-check's figure would take the year past the cap: refused beside the amount
    person(ctx, users, "sup2", "insurer_supervisor")
    r = client.post(f"/api/cases/{second}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "按县级复核金额", "relief_amount": format_yuan(room)})
    assert r.status_code == 422, r.text
    assert "relief_amount" in r.text and f"最多 {format_yuan(room - 1_000_000)} 元" in r.text, r.text
    with _row_locks(ctx) as locks:  # the household before the case, as a merge or split locks them
        r = client.post(f"/api/cases/{second}/redetermination", headers=users.headers("sup2"),
                        json={"outcome": "proceed", "reason": "按县级复核金额，扣除补发",
                              "relief_amount": format_yuan(room - 1_000_000)})
    assert not _on_postgresql(ctx) or locks[:2] == ["household", "case"], locks
    assert r.status_code == 200 and r.json()["waiting"]["relief"] == format_yuan(room - 1_000_000), r.text


def _on_postgresql(ctx: Any) -> bool:
    return bool(ctx.db.engine.dialect.name == "postgresql")


@contextmanager
def _row_locks(ctx: Any) -> Iterator[list[str]]:
    """The rows locked (FOR UPDATE) while the block runs, in order: "household" or "case" (PostgreSQL; SQLite locks
    the whole database for a write, and renders no FOR UPDATE: nothing is seen)."""
    seen: list[str] = []

    def on_execute(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        if "FOR UPDATE" in statement:
            table = statement.split("FROM", 1)[1].split()[0] if "FROM" in statement else ""
            if table in ("household", "relief_case"):
                seen.append("household" if table == "household" else "case")

    event.listen(ctx.db.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", on_execute)


def test_the_household_is_locked_before_the_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A determination locks the household's row (its year, payments/year_paid.py) before the case's, the order in
    which a household's merge or split locks them: the other way round, the two wait for each other (a deadlock,
    answered 503)."""
    if not _on_postgresql(ctx):
        pytest.skip("row locks: PostgreSQL only (SQLite's writer lock is the whole database's)")
    home = Household(ctx, users)
    second = home.next_case(client, determined=False, cost=1_000_000)
    with _row_locks(ctx) as locks, ctx.db.begin() as s:
        checks.determine(s, second, confirm=True, principal=staff(ctx).supervisor, clock=ctx.clock)
    assert locks[:2] == ["household", "case"], locks


def test_the_pages_say_what_the_next_case_is_priced_on_not_that_it_was_paid(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """The first case's 21,900 was found due to an ineligible household and repaid whole: the household has nothing of
    the year. The next case is priced on the 21,900 granted (the repaid money does not come back through it), and its
    determination, case page and approval form labelled that figure 本年已付, paid this year, which the household was
    not. They name it for what it is: what the year has already counted against the relief (本年已计保障金)."""
    from web.pagekit import Pages

    from verifier.web import labels

    home = Household(ctx, users)
    first_relief = relief_of(ctx, home.first)
    round_id = drawn_round(rounds, {home.first})
    rounds.result(round_id, home.first, per_capita_income="9000.00", eligible=False)
    second = home.next_case(client, determined=False, cost=1_000_000)
    with ctx.db.read() as s:
        rec = s.scalars(select(Recovery).where(Recovery.case_id == home.first)).one()
    _repaid(ctx, home, rec.id, rec.amount)
    with ctx.db.read() as s:
        assert year_paid.year_paid(s, load_case(s, second, None), besides=second).taken == 0  # nothing paid, net
    figure = f"{first_relief // 100:,}.00"
    pages = Pages(client, users)
    pages.login(staff(ctx).supervisor.username, "factory-password")

    def says(url: str) -> str:
        r = pages.get(url)
        assert r.status_code == 200, r.text
        assert "本年已付" not in r.text, url
        assert labels.ALREADY_COUNTED == "本年已计保障金" and labels.ALREADY_COUNTED in r.text, url
        assert labels.ALREADY_COUNTED_NOTE in r.text and figure in r.text, url
        return r.text

    says(f"/cases/{second}/determination")
    with ctx.db.begin() as s:
        a = checks.determine(s, second, confirm=True, principal=staff(ctx).supervisor, clock=ctx.clock)
    assert a.quote is not None and a.quote.already_paid == first_relief
    says(f"/cases/{second}")
    says(f"/cases/{second}/approval-form")
