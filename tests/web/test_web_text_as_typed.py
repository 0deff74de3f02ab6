"""Text is stored as typed (NFC only): full-width punctuation stays; numbers, dates and ID numbers typed with
full-width digits are still understood."""

from __future__ import annotations

from factories import make_case, new_id_number
from pagekit import status_of


def test_full_width_punctuation_is_kept_and_full_width_digits_are_read(pages, ctx, users, client) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk1", "town_clerk")
    idn = new_id_number()
    wide_id = idn.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    r = pages.post("/applications/new", {
        "county_code": "３４０２２３", "id_number": wide_id, "name": "赵大山", "town": "城关镇", "village": "北村",
        "household_group": "low_income", "cause": "illness", "amount": "１２，５００．５０",
        "referred_on": "２０２０－０５－３０", "household_size": "４", "note": "住院两次（县医院、市医院），自付较多"})
    assert r.status_code == 303, r.text
    case_id = r.headers["location"].split("/cases/")[1].split("?")[0]
    users.add("sup", "insurer_supervisor", counties=("340223",))
    detail = client.get(f"/api/cases/{case_id}", headers=users.headers("sup")).json()
    ref = detail["referrals"][0]
    assert (ref["amount"], ref["referred_on"]) == ("12500.50", "2020-05-30")

    # A screening reason with full-width commas and brackets is stored exactly as typed.
    other = make_case(ctx, stage="received")
    reason = "家庭有稳定收入，（子女在外务工：月收入约五千元）"
    r = pages.post(f"/cases/{other}/screening", {"decision": "reject", "reason": reason, "confirm": "yes"})
    assert r.status_code == 303 and status_of(ctx, other) == "screened_out"
    assert client.get(f"/api/cases/{other}", headers=users.headers("sup")).json()["screening_reason"] == reason
