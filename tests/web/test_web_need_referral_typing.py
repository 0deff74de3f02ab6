"""转交部门 as a tired field officer types it on a phone: a mistyped case number in the list's box shows the list
again with the number as typed and what is wrong beside it (not a bare 404 page); the number typed by a phone's
input method (full-width digits and dashes, spaces) finds the case; a day that does not exist and a need not chosen
are said together, everything typed kept."""

from __future__ import annotations

import re

from factories import make_case

from verifier.store.tables import Case


def _number(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return str(session.get(Case, case_id).number)


def test_a_mistyped_case_number_is_said_beside_the_box_and_kept(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", head_name="钱七")
    number = _number(ctx, case_id)
    pages.as_("off", "field_officer")
    r = pages.get("/need-referrals/new", params={"case": number[:-1] + "9"})
    assert r.status_code == 404 and 'id="case-error"' in r.text and "没有这个案件编号" in r.text
    assert f'value="{number[:-1]}9"' in r.text and 'aria-invalid="true"' in r.text
    assert "需求转交部门（发点球）" in r.text  # the list, not an error page
    typed = " " + number.replace("-", "－").replace("3", "３") + " "
    r = pages.get("/need-referrals/new", params={"case": typed})
    assert r.status_code == 200 and "钱七户" in r.text and f'value="{case_id}"' in r.text


def test_a_refused_referral_says_every_problem_and_keeps_what_was_typed(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", head_name="钱七")
    pages.as_("off", "field_officer")
    r = pages.post("/need-referrals/new", {"case_id": case_id, "need": "", "due_on": "2026-02-30",
                                          "department": "县民政局", "note": "户主慢性病"})
    assert r.status_code == 422
    assert re.search(r'id="need-error">[^<]*请选择需求', r.text) and "没有这一天" in r.text
    assert "户主慢性病" in r.text and 'value="县民政局"' in r.text and 'value="2026-02-30"' in r.text
