"""The clerk who posted a notice may close it at 00:00 on its `ends_on`, the first moment the interface allows
(`POST /api/notices/{id}/close`: 409 only before `ends_on` or while an objection is open). A paper objection handed
in on the period's last day and not yet typed was then shut out, and the household went on to be paid as if nobody
had objected. Such an objection (received within the period) is still typed on `ends_on`, after the close, and holds
the case's payment until it is resolved: out of every new batch, taken out of a prepared one, and a batch approved
before it is refused release. Dismissed (by another person), the case is payable again; upheld, it is taken off the
notice and checked again. A case whose relief is already out is refused (409): a follow-up matter."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from deviation_helpers import pay
from factories import COUNTY, make_case
from sqlalchemy import select
from village_kit import confirm_posting

from verifier.accounts.auth import Principal, principal_of
from verifier.audit.models import AuditEntry
from verifier.clock import SCHEME_TZ
from verifier.notices.models import NoticeItem, Objection
from verifier.payments.models import PaymentItem
from verifier.store.tables import Case, User


def _at(ctx: Any, day: date, hour: int, minute: int = 0) -> None:
    ctx.clock.at = datetime.combine(day, time(hour, minute), SCHEME_TZ)


def _closed_at_midnight(ctx: Any, client: Any, users: Any, n: int) -> tuple[str, list[str], date]:
    """`n` cases of 东村 on a notice `clerk` posted today, its posting confirmed on the wall by a second person, closed
    by `clerk` at 00:00 on its `ends_on`: (notice id, cases, ends_on). The clock stands at that midnight."""
    for name, role in (("clerk", "town_clerk"), ("clerk2", "town_clerk"), ("reviewer", "county_reviewer"),
                       ("claims", "insurer_claims"), ("fin", "finance")):
        users.add(name, role, counties=(COUNTY,))
    clerk, today = users.headers("clerk"), ctx.clock.today().isoformat()
    cases = [make_case(ctx, village="东村") for _ in range(n)]
    for case_id in cases:
        r = client.post(f"/api/cases/{case_id}/village-review", headers=clerk,
                        json={"held_on": today, "result": "pass", "note": ""})
        assert r.status_code == 201, r.text
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    assert r.status_code == 201, r.text
    notice_id, ends_on = r.json()["id"], date.fromisoformat(r.json()["ends_on"])
    confirm_posting(ctx, notice_id)  # the county reviewer saw it on the wall: its cases may be paid
    _at(ctx, ends_on, 0, 0)
    r = client.post(f"/api/notices/{notice_id}/close", headers=clerk)
    assert r.status_code == 200, r.text
    assert {i["status"] for i in r.json()["items"]} == {"cleared"}
    return notice_id, cases, ends_on


def _object(client: Any, headers: dict[str, str], notice_id: str, case_id: str, received_on: date) -> Any:
    return client.post(f"/api/notices/{notice_id}/objections", headers=headers,
                       json={"case_id": case_id, "received_on": received_on.isoformat(),
                             "summary": "村民反映该户家中有人在外务工，收入未申报", "raised_by": "villager",
                             "received_via": "letter"})


def _batch(client: Any, users: Any, **body: Any) -> Any:
    return client.post("/api/payment-batches", headers=users.headers("claims"), json={"county_code": COUNTY, **body})


def _batch_cases(ctx: Any, batch_id: str) -> set[str]:
    with ctx.db.read() as session:
        return set(session.scalars(select(PaymentItem.case_id).where(PaymentItem.batch_id == batch_id,
                                                                     PaymentItem.status == "pending")))


def _principal(ctx: Any, users: Any, name: str) -> Principal:
    with ctx.db.read() as session:
        return principal_of(session.get(User, users.ids[name]))


def _status(ctx: Any, case_id: str) -> str:
    with ctx.db.read() as session:
        return str(session.scalar(select(Case.status).where(Case.id == case_id)))


def test_attack_the_poster_closes_at_midnight_before_the_last_days_objection_is_typed(  # type: ignore[no-untyped-def]
        ctx, client, users) -> None:
    notice_id, (objected, other), ends_on = _closed_at_midnight(ctx, client, users, 2)
    last = ends_on - timedelta(days=1)
    assert _status(ctx, objected) == "ready_to_pay"

    # On ends_on morning a colleague types the letter the village handed in on the last day: accepted.
    _at(ctx, ends_on, 8, 30)
    r = _object(client, users.headers("clerk2"), notice_id, objected, last)
    assert r.status_code == 201, r.text
    objection = r.json()["id"]
    assert r.json()["status"] == "open" and r.json()["case_status"] == "ready_to_pay"
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry.entry).where(AuditEntry.action == "objection.record",
                                                               AuditEntry.subject == objected)).one()
    held = json.loads(entry)["payload"]["after_close"]
    assert held["payment_held"] is True and held["case_status"] == "ready_to_pay" and held["taken_out_of_batch"] is None
    # what was not received within the period is not taken now the notice is closed
    r = _object(client, users.headers("clerk2"), notice_id, other, ends_on)
    assert r.status_code == 409 and "只补登公示期内收到的异议" in r.json()["detail"], r.text

    # Claims prepares a batch: the household objected to is held out of it, and cannot be chosen.
    r = _batch(client, users, case_ids=[objected])
    assert r.status_code == 422 and "异议处理前不能支付" in r.text, r.text
    r = _batch(client, users)
    assert r.status_code == 201, r.text
    assert _batch_cases(ctx, r.json()["id"]) == {other}

    # The next day the window is over: the notice takes no more of its period's objections.
    _at(ctx, ends_on + timedelta(days=1), 9, 0)
    r = _object(client, users.headers("clerk2"), notice_id, other, last)
    assert r.status_code == 409 and "公示已于" in r.json()["detail"], r.text

    # The poster may not bury it; another person dismisses it, and the household is payable again.
    r = client.post(f"/api/objections/{objection}/resolution", headers=users.headers("clerk"),
                    json={"outcome": "dismissed"})
    assert r.status_code == 403, r.text
    assert _batch(client, users).status_code == 422  # still held
    r = client.post(f"/api/objections/{objection}/resolution", headers=users.headers("reviewer"),
                    json={"outcome": "dismissed", "note": "经核实，外出务工收入已计入"})
    assert r.status_code == 200 and r.json()["case_status"] == "ready_to_pay", r.text
    r = _batch(client, users)
    assert r.status_code == 201, r.text
    assert _batch_cases(ctx, r.json()["id"]) == {objected}


def test_a_batch_prepared_between_the_close_and_the_objection_gives_the_case_up(  # type: ignore[no-untyped-def]
        ctx, client, users) -> None:
    """Prepared at 07:00 (the notice closed at midnight), the batch gives up the household objected to at 09:00: its
    item is taken out and the batch recounted; a batch already approved keeps its case but is not released while the
    objection waits. Upheld, the case is taken off the notice and checked again; a case already paid is refused."""
    notice_id, (objected, approved, paid, other), ends_on = _closed_at_midnight(ctx, client, users, 4)
    last = ends_on - timedelta(days=1)
    fin = users.headers("fin")

    # 06:00: one case paid that morning (released, the bank's return imported); 07:00: one approved, one prepared.
    _at(ctx, ends_on, 6, 0)
    pay(ctx, _principal(ctx, users, "claims"), _principal(ctx, users, "fin"), [paid])
    assert _status(ctx, paid) == "paid"
    _at(ctx, ends_on, 7, 0)
    r = _batch(client, users, case_ids=[approved])
    assert r.status_code == 201, r.text
    approved_batch = r.json()["id"]
    assert client.post(f"/api/payment-batches/{approved_batch}/approve", headers=fin).status_code == 200
    r = _batch(client, users, case_ids=[objected, other])
    assert r.status_code == 201, r.text
    prepared = r.json()["id"]
    assert r.json()["item_count"] == 2

    # 09:00: the last day's objections typed. The prepared batch gives its case up.
    _at(ctx, ends_on, 9, 0)
    clerk2 = users.headers("clerk2")
    r = _object(client, clerk2, notice_id, objected, last)
    assert r.status_code == 201, r.text
    on_prepared = r.json()["id"]
    assert _batch_cases(ctx, prepared) == {other} and _status(ctx, objected) == "ready_to_pay"
    got = client.get(f"/api/payment-batches/{prepared}", headers=fin).json()
    assert got["item_count"] == 1 and got["status"] == "prepared"
    with ctx.db.read() as session:
        item = session.scalars(select(PaymentItem).where(PaymentItem.batch_id == prepared,
                                                         PaymentItem.case_id == objected)).one()
    assert item.status == "cancelled" and "异议" in (item.removed_reason or "")
    assert _batch(client, users, case_ids=[objected]).status_code == 422

    # The approved batch keeps its case, and is not released while the objection waits.
    r = _object(client, clerk2, notice_id, approved, last)
    assert r.status_code == 201, r.text
    on_approved = r.json()["id"]
    r = client.post(f"/api/payment-batches/{approved_batch}/release", headers=fin)
    assert r.status_code == 409 and "异议" in r.json()["detail"], r.text
    # nor upheld while the batch commits the fund to it: cancel it first (nothing written)
    r = client.post(f"/api/objections/{on_approved}/resolution", headers=users.headers("reviewer"),
                    json={"outcome": "upheld"})
    assert r.status_code == 409 and "撤销该批次" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        assert session.get(Objection, on_approved).status == "open"

    # The money already out: refused, nothing written.
    r = _object(client, clerk2, notice_id, paid, last)
    assert r.status_code == 409 and "已不能暂停支付" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        assert not session.scalars(select(Objection.id).where(Objection.case_id == paid)).all()

    # Dismissed, the approved batch goes; upheld, the case given up is taken off the notice and checked again.
    r = client.post(f"/api/objections/{on_approved}/resolution", headers=users.headers("reviewer"),
                    json={"outcome": "dismissed", "note": "经核实不属实"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/payment-batches/{approved_batch}/release", headers=fin)
    assert r.status_code == 200, r.text
    r = client.post(f"/api/objections/{on_prepared}/resolution", headers=users.headers("clerk"),
                    json={"outcome": "upheld", "note": "需重新入户核查"})
    assert r.status_code == 200 and r.json()["case_status"] == "screened", r.text
    with ctx.db.read() as session:
        assert session.scalar(select(NoticeItem.status).where(NoticeItem.case_id == objected)) == "withdrawn"
