"""The case's second persons through a second account, as the pages show them. The services refuse an account linked
by a password to the first person's (`recusal.refusals.refuse_linked`, tests: test_second_person_second_account.py);
the pages ask the same rule (`recusal.refusals.linked_said` over the step's own parts) and show such an account why,
in the service's words, instead of the button (determination, re-determination, the notice wall) or instead of the
choice that confirms (初筛不通过, 村级评议未通过: 通过 stays theirs), as the roster and the registers' pages do. Reading
the page is no attempt: nothing goes on 回避拦截记录. The person allowed still sees the button."""

from __future__ import annotations

from typing import Any

from factories import COUNTY, head_on_record, make_case
from insider_kit import bureau_case, check_body, refusals_of, reviewed_and_posted, schedule
from sqlalchemy import select
from village_kit import wall_photo

from verifier.store.tables import User


def _set_password_of(ctx: Any, users: Any, account: str, by: str) -> None:
    with ctx.db.begin() as session:
        session.get(User, users.ids[account]).password_set_by = users.ids[by]


def _page(client: Any, users: Any, who: str, url: str) -> str:
    r = client.get(url, headers=users.headers(who))
    assert r.status_code == 200, r.text
    return str(r.text)


def _refused(client: Any, users: Any, who: str, url: str, body: dict[str, Any]) -> str:
    """What the service answers `who` sending the step anyway (403): the words the page must already show."""
    r = client.post(url, headers=users.headers(who), json=body)
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    return str(r.json()["detail"])


def test_a_linked_supervisor_reads_why_instead_of_the_determination_button(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    for name in ("boss", "other", "planner"):
        users.add(name, "insurer_supervisor", counties=(COUNTY,))
    users.add("pal", "field_officer", counties=(COUNTY,))
    users.add("peer", "field_officer", counties=(COUNTY,))
    _set_password_of(ctx, users, "pal", by="boss")  # the supervisor knows a password of the officer's account
    today = ctx.clock.today().isoformat()
    team = [users.ids["pal"], users.ids["peer"]]
    schedule(client, users.headers("planner"), case_id, team, today)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("pal"),
                    json=check_body(*head_on_record(ctx, case_id), team, today, wages="100.00"))
    assert r.status_code == 201, r.text
    url = f"/cases/{case_id}/determination"

    page = _page(client, users, "boss", url)
    assert 'id="confirm-refused"' in page and "您不能确认这个认定结果" in page
    assert "确认认定结果</button>" not in page and f'action="{url}"' not in page
    assert "退回重新核查" in page  # sending the check back is not the step refused
    assert refusals_of(ctx, users.ids["boss"]) == []  # reading the page is no attempt
    said = _refused(client, users, "boss", f"/api/cases/{case_id}/determination", {"confirm": True})
    assert said in page  # the page said it in the service's own words

    other = _page(client, users, "other", url)
    assert "确认认定结果</button>" in other and f'action="{url}"' in other and 'id="confirm-refused"' not in other


def test_a_linked_account_reads_why_instead_of_confirming_a_screen_out(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk_pal", "town_clerk", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    _set_password_of(ctx, users, "clerk_pal", by="clerk")
    case_id = bureau_case(ctx, client, users)
    url = f"/cases/{case_id}"
    assert 'id="screen-out-refused"' not in _page(client, users, "clerk_pal", url)  # nothing proposed yet
    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("clerk"),
                    json={"decision": "reject", "reason": "家庭收入稳定"})
    assert r.status_code == 200 and r.json()["status"] == "received", r.text

    page = _page(client, users, "clerk_pal", url)
    assert 'id="screen-out-refused"' in page and "您不能确认这项初筛不通过" in page
    assert 'id="screening"' in page and 'value="pass"' in page  # 通过 (overturning it) stays theirs
    assert 'name="decision" value="reject"' not in page
    assert refusals_of(ctx, users.ids["clerk_pal"]) == []
    said = _refused(client, users, "clerk_pal", f"/api/cases/{case_id}/screening",
                    {"decision": "reject", "reason": "核实：家庭有稳定工资收入"})
    assert said in page

    allowed = _page(client, users, "reviewer", url)
    assert 'name="decision" value="reject"' in allowed and 'id="screen-out-refused"' not in allowed


def test_a_linked_clerk_reads_why_instead_of_confirming_a_village_fail(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk_pal", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    _set_password_of(ctx, users, "clerk_pal", by="clerk")
    case_id = make_case(ctx)  # determined eligible by the insurer
    day = ctx.clock.today().isoformat()
    url = f"/cases/{case_id}"
    r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk"),
                    json={"held_on": day, "result": "fail", "note": "村民代表认为该户有稳定收入"})
    assert r.status_code == 201 and r.json()["case_status"] == "determined", r.text

    page = _page(client, users, "clerk_pal", url)
    assert 'id="review-fail-refused"' in page and "您不能确认这项村级评议未通过" in page
    assert 'id="review"' in page and 'name="result" value="pass"' in page
    assert 'name="result" value="fail"' not in page
    assert refusals_of(ctx, users.ids["clerk_pal"]) == []
    said = _refused(client, users, "clerk_pal", f"/api/cases/{case_id}/village-review",
                    {"held_on": day, "result": "fail", "note": ""})
    assert said in page

    allowed = _page(client, users, "clerk2", url)
    assert 'name="result" value="fail"' in allowed and 'id="review-fail-refused"' not in allowed


def test_a_linked_account_reads_why_instead_of_the_wall_confirmation(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("reviewer_pal", "county_reviewer", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    _set_password_of(ctx, users, "reviewer_pal", by="clerk")
    case_id = make_case(ctx, village="东村")
    clerk, today = users.headers("clerk"), ctx.clock.today().isoformat()
    notice_id = reviewed_and_posted(client, clerk, case_id, today)["id"]
    r = client.post(f"/api/notices/{notice_id}/photos", headers=clerk,
                    files={"file": ("公示张贴.jpg", wall_photo(ctx.clock.today()), "image/jpeg")})
    assert r.status_code == 201, r.text
    url = f"/notices/{notice_id}"

    page = _page(client, users, "reviewer_pal", url)
    assert 'id="not-you"' in page and "密码关联" in page
    assert 'id="confirm-posting"' not in page and "确认公示已张贴</button>" not in page
    assert 'id="wall-photo-form"' in page  # uploading a photo is not the step refused
    assert refusals_of(ctx, users.ids["reviewer_pal"]) == []
    said = _refused(client, users, "reviewer_pal", f"/api/notices/{notice_id}/posting-confirmation",
                    {"note": "查阅了纸质会议记录"})
    assert said in page

    allowed = _page(client, users, "reviewer", url)
    assert 'id="confirm-posting"' in allowed and 'id="not-you"' not in allowed


def test_a_linked_supervisor_reads_why_instead_of_the_redetermination_form(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from deviation_helpers import both_found_ineligible, held_and_paid_in_a_round

    from verifier.store.tables import Determination

    round_ = held_and_paid_in_a_round(ctx, client, users)
    both_found_ineligible(ctx, client, round_, "9000.00")
    with ctx.db.read() as session:
        determiner = session.scalars(select(Determination.confirmed_by)
                                     .where(Determination.case_id == round_.held)).one()
        username = session.get(User, determiner).username
    users.ids.setdefault(username, determiner)
    users.add("sup_pal", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup_other", "insurer_supervisor", counties=(COUNTY,))
    _set_password_of(ctx, users, "sup_pal", by=username)
    url = f"/cases/{round_.held}"

    page = _page(client, users, "sup_pal", url)
    assert 'id="redetermination-refused"' in page and "您不能重新认定本案" in page
    assert 'id="redetermination-form"' not in page and "保存重新认定</button>" not in page
    assert refusals_of(ctx, users.ids["sup_pal"]) == []
    said = _refused(client, users, "sup_pal", f"/api/cases/{round_.held}/redetermination",
                    {"outcome": "proceed", "reason": "核实无误，维持原认定"})
    assert said in page

    allowed = _page(client, users, "sup_other", url)
    assert 'id="redetermination-form"' in allowed and 'id="redetermination-refused"' not in allowed
