"""The receipt alert's closing and its second look (confirmed or returned), the supplement's confirmation, the
payee change before it and the withdrawal of a 核实未收到 (proposed, confirmed) answer a program in Chinese: every
problem detail (and every field's message) these paths give, refused for each reason they refuse, holds Chinese and
no English sentence (the pages translate by their tables; the API shows the service's own words)."""

from __future__ import annotations

from typing import Any

from deviation_helpers import person
from insider_kit import head_of, paid_onto_sly, receipt_followup
from web.pagekit import HAN, english_in


def _said(r: Any) -> list[str]:
    body = r.json()
    return [str(body.get("detail") or ""), *(str(e.get("message") or "") for e in body.get("errors") or [])]


def test_every_refusal_on_the_receipt_and_payee_paths_is_chinese(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    person(ctx, users, "fin1", "finance", "county_reviewer")
    person(ctx, users, "sup3", "insurer_supervisor")
    cases, _ = paid_onto_sly(ctx, client, users)
    today = ctx.clock.today().isoformat()
    diverted = receipt_followup(client, users, cases[0], today, "no", "0")
    missing = receipt_followup(client, users, cases[1], today, "no", "0")
    seen: list[tuple[str, int, list[str]]] = []

    def post(name: str, url: str, who: str, status: int, body: dict[str, Any] | None = None) -> Any:
        r = client.post(url, headers=users.headers(who), json=body or {})
        assert r.status_code == status, (name, r.text)
        if status >= 400:
            seen.append((name, status, _said(r)))
        return r

    review, confirm = "/api/followups/{}/receipt-review", "/api/followups/{}/receipt-review/confirm"
    back = "/api/followups/{}/receipt-review/return"
    post("no such follow-up", review.format("fup_none"), "rev1", 404, {"note": "x", "outcome": "received"})
    post("took part", review.format(diverted), "fin1", 403, {"note": "已核实", "outcome": "received"})
    post("no outcome", review.format(diverted), "rev1", 422, {"note": "已核实"})
    post("not closed yet", confirm.format(diverted), "rev2", 409)
    post("closed", review.format(diverted), "rev1", 200, {"note": "户主说钱到了", "outcome": "received"})
    post("closer's second look", confirm.format(diverted), "rev1", 403)
    post("closer returns", back.format(diverted), "rev1", 403, {"note": "钱没到"})
    post("return without why", back.format(diverted), "rev2", 422, {"note": " "})
    post("second look", confirm.format(diverted), "rev2", 200)
    post("looked twice", confirm.format(diverted), "rev2", 409)
    post("returned after the second look", back.format(diverted), "rev2", 409, {"note": "钱没到"})
    post("closed twice", review.format(diverted), "rev2", 409, {"note": "再次", "outcome": "received"})
    sup = post("misdirected", review.format(missing), "rev1", 200,
               {"note": "钱进了别人的卡", "outcome": "misdirected"}).json()["supplement_id"]
    post("no such supplement", "/api/supplements/sup_none/confirm", "rev2", 404)
    post("closer confirms", f"/api/supplements/{sup}/confirm", "rev1", 403)
    post("confirmed", f"/api/supplements/{sup}/confirm", "rev2", 200)
    post("confirmed twice", f"/api/supplements/{sup}/confirm", "rev2", 409)

    body = {"account_name": head_of(client, users.headers("sup3"), cases[0]), "bank": "农村商业银行",
            "account_number": "6217000000000012345", "reason": "户主换卡"}
    post("paid, nothing misdirected", f"/api/cases/{cases[0]}/payee", "sup3", 409, body)
    body["account_name"] = head_of(client, users.headers("sup3"), cases[1])
    for name, bad in (("no name", {"account_name": " "}), ("no bank", {"bank": ""}), ("formula", {"bank": "=银行"}),
                      ("long name", {"account_name": "长" * 101}), ("short number", {"account_number": "1234"}),
                      ("letters", {"account_number": "62220abc"})):
        r = client.post(f"/api/cases/{cases[1]}/payee", headers=users.headers("sup3"), json={**body, **bad})
        assert r.status_code in (400, 422) and [e["field"] for e in r.json()["errors"]] == list(bad), (name, r.text)
        seen.append((name, r.status_code, _said(r)))
    change = post("asked", f"/api/cases/{cases[1]}/payee", "sup3", 201, body).json()["id"]
    post("asked twice", f"/api/cases/{cases[1]}/payee", "sup2", 409, body)
    decide = "/api/payee-changes/{}/{}"
    post("no such change", decide.format("pc_none", "approve"), "rev2", 404)
    post("own change", decide.format(change, "approve"), "sup3", 403)
    post("approved the batch", decide.format(change, "approve"), "fin2", 403)
    post("not a county reviewer", decide.format(change, "approve"), "sup2", 403)
    post("long note", decide.format(change, "reject"), "rev2", 422, {"note": "长" * 600})
    post("note of 501", decide.format(change, "reject"), "rev2", 422, {"note": "长" * 501})
    huge = post("huge note", decide.format(change, "reject"), "rev2", 400, {"note": "长" * 3000}).json()
    assert [(e["field"], e["message"]) for e in huge["errors"]] == [("note", "不能超过 2000 个字")], huge
    post("approved", decide.format(change, "approve"), "rev2", 200)
    post("approved twice", decide.format(change, "reject"), "rev2", 409)

    # 撤回核实未收到: proposed by one county reviewer, confirmed by another.
    person(ctx, users, "rev3", "county_reviewer")
    person(ctx, users, "rev4", "county_reviewer")
    withdraw = "/api/followups/{}/receipt-review/withdraw"
    confirm_withdrawal = withdraw + "/confirm"
    post("withdrawal confirmed before asked", confirm_withdrawal.format(missing), "rev3", 409)
    post("withdrawal by who took part", withdraw.format(missing), "fin1", 403, {"reason": "看错了流水"})
    post("withdrawal without why", withdraw.format(missing), "rev3", 422, {"reason": " "})
    post("withdrawal of a 核实已收到", withdraw.format(diverted), "rev3", 409, {"reason": "看错了流水"})
    post("withdrawal proposed", withdraw.format(missing), "rev3", 200, {"reason": "看错了流水"})
    post("withdrawal proposed twice", withdraw.format(missing), "rev4", 409, {"reason": "看错了流水"})
    post("proposer confirms", confirm_withdrawal.format(missing), "rev3", 403)
    post("closer confirms the withdrawal", confirm_withdrawal.format(missing), "rev1", 403)
    post("withdrawn", confirm_withdrawal.format(missing), "rev4", 200)
    post("withdrawn twice", confirm_withdrawal.format(missing), "rev4", 409)

    assert len(seen) >= 26
    bad = [(name, status, text) for name, status, said in seen for text in said
           if text and (not HAN.search(text) or english_in(text))]
    assert bad == [], bad
