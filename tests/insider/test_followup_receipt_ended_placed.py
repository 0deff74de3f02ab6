"""Ended proposals to withdraw a 核实未收到 closing (已撤销提议, 已驳回撤回) were printed in one heap above the closings,
on the receipt alerts page and the case page's 回访 section: a proposal declined on the closing that stands read as
one made before it, and those of a closing since withdrawn read as the later closing's. Each ended proposal names its
closing (`review_id`); the read model (`receipt.under_closings`) places each under that closing, oldest first, and
the pages print them there: a withdrawn closing, its proposals that ended, then the one confirmed; the current
closing, then its proposals that ended, then the one that waits."""

from __future__ import annotations

import re

from deviation_helpers import person
from sqlalchemy import select
from web.pagekit import Pages

from verifier.accounts.auth import principal_of
from verifier.followups import receipt
from verifier.followups.models import FollowupReceiptReview, FollowupReceiptWithdrawEnded
from verifier.store.tables import User

FIRST = "银行流水显示钱进了别人的卡"  # misdirected_closing's note
AGAIN = "重新调取银行流水，钱仍在他人卡上"


def _api(client, users, fid: str, who: str, step: str, body: dict | None = None) -> dict:  # type: ignore[type-arg, no-untyped-def]
    r = client.post(f"/api/followups/{fid}/receipt-review/withdraw{step}", headers=users.headers(who), json=body or {})
    assert r.status_code == 200, (who, step, r.text)
    return r.json()  # type: ignore[no-any-return]


def _order(page: str, marks: list[str]) -> list[int]:
    """Where each mark first appears in `page` (each must)."""
    at = [page.find(m) for m in marks]
    assert -1 not in at, [m for m, i in zip(marks, at) if i == -1]
    return at


def test_each_ended_proposal_is_shown_under_its_own_closing(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    for name in ("rev3", "rev4", "rev5"):
        person(ctx, users, name, "county_reviewer")
    case, fid, _, _ = misdirected_closed
    # Closing A (rev1's): proposal 1 dropped, 2 declined, 3 confirmed: A is withdrawn.
    _api(client, users, fid, "rev3", "", {"reason": "看错了流水一"})
    _api(client, users, fid, "rev3", "/drop", {"proposal": 1, "reason": "撤销一"})
    _api(client, users, fid, "rev3", "", {"reason": "看错了流水二"})
    _api(client, users, fid, "rev4", "/decline", {"proposal": 2, "reason": "驳回二"})
    _api(client, users, fid, "rev4", "", {"reason": "看错了流水三"})
    assert _api(client, users, fid, "rev2", "/confirm", {"proposal": 3})["withdrawn_by"] == users.ids["rev2"]
    # Closing B (rev3's, anew): its proposal 1 declined, its proposal 2 waits.
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev3"),
                    json={"note": AGAIN, "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    _api(client, users, fid, "rev4", "", {"reason": "看错了流水四"})
    _api(client, users, fid, "rev5", "/decline", {"proposal": 1, "reason": "驳回四"})
    assert _api(client, users, fid, "rev4", "", {"reason": "看错了流水五"})["withdraw_proposal"] == 2

    with ctx.db.read() as session:
        a, b = session.scalars(select(FollowupReceiptReview.id).where(FollowupReceiptReview.followup_id == fid)
                               .order_by(FollowupReceiptReview.withdrawn_at.is_(None), FollowupReceiptReview.id)).all()
        ended = {(e.review_id, e.proposal): e.id for e in session.scalars(select(FollowupReceiptWithdrawEnded))}
        [alert] = receipt.find_alerts(session, principal_of(session.get(User, users.ids["rev5"])), ctx.vault, status="all").items
        [shown] = receipt.for_case(session, case)
    assert set(ended) == {(a, 1), (a, 2), (b, 1)}, ended
    # The read model: each withdrawn closing holds its own, the current closing its own, oldest first.
    for read in (alert, shown):
        [w] = read.withdrawn
        assert w.id == a and [(e.review_id, e.proposal, e.ended) for e in w.ended] == [
            (a, 1, "dropped"), (a, 2, "declined")], w.ended
        assert [(e.review_id, e.proposal, e.ended) for e in read.closing_ended] == [(b, 1, "declined")]
        assert len(read.withdraw_ended) == 3  # the whole list stays for the API

    # The pages print each under its closing: A, A's ended 1 and 2, A's confirmed withdrawal; B, B's ended 1, and
    # (the alerts page) B's proposal that waits.
    pages = Pages(client, users)
    pages.login("rev5")
    listed = pages.get("/receipt-alerts?status=all").text
    cell = listed.split(f'id="alert-{fid}"')[1].split("</tr>")[0]
    marks = [f'id="withdrawn-{a}"', f'id="ended-{ended[(a, 1)]}"', f'id="ended-{ended[(a, 2)]}"',
             f'id="withdrawn-by-{a}"', AGAIN, f'id="ended-{ended[(b, 1)]}"', f'id="withdraw-{fid}"']
    at = _order(cell, marks)
    assert at == sorted(at), list(zip(marks, at))
    assert cell.count('class="small withdraw-ended"') == 3, cell
    assert "撤销一" in cell.split(f'id="ended-{ended[(a, 1)]}"')[1].split("</p>")[0]
    assert "驳回四" in cell.split(f'id="ended-{ended[(b, 1)]}"')[1].split("</p>")[0]

    page = pages.get(f"/cases/{case}").text
    row = page.split('id="case-followups"')[1].split("</table>")[0]
    at = _order(row, marks[:-1])
    assert at == sorted(at), list(zip(marks[:-1], at))
    assert row.count('class="small withdraw-ended"') == 3, row
    assert FIRST in row.split(f'id="withdrawn-{a}"')[1].split("</p>")[0]
    assert re.search(r"已驳回撤回</span> rev4 提议撤回核实未收到", row), row
