"""The first person of a step, as the pages show them: the services refuse the proposer of a screen-out or of a
village review's 未通过 confirming it, and a supervisor who sent a check of the case back or took part in the check
confirming its determination (403, tests: test_one_person_decides.py and neighbours). The pages ask the same rule
(`checks.service.determiner_refused`, `cases.service.screen_out_refused`, `notices.service.review_fail_refused`,
the functions the services refuse by) and show that person why, in the service's words, instead of the button or
the choice that confirms (通过 stays theirs). The person allowed still sees it."""

from __future__ import annotations

from typing import Any

from factories import COUNTY, head_on_record, make_case
from insider_kit import bureau_case, check_body, schedule

FIRST_PERSON = "按“四眼原则”"


def _page(client: Any, users: Any, who: str, url: str) -> str:
    r = client.get(url, headers=users.headers(who))
    assert r.status_code == 200, r.text
    return str(r.text)


def _refused(client: Any, users: Any, who: str, url: str, body: dict[str, Any]) -> str:
    """What the service answers `who` sending the step anyway (403): the words the page must already show."""
    r = client.post(url, headers=users.headers(who), json=body)
    assert r.status_code == 403 and r.json()["detail"].startswith(FIRST_PERSON), r.text
    assert "密码关联" not in r.json()["detail"]  # the person themself, not a second account
    return str(r.json()["detail"])


def _checked_by(ctx: Any, client: Any, users: Any, case_id: str, team: list[str], by: str) -> None:
    today = ctx.clock.today().isoformat()
    schedule(client, users.headers("planner"), case_id, [users.ids[t] for t in team], today)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers(by),
                    json=check_body(*head_on_record(ctx, case_id), [users.ids[t] for t in team], today,
                                    wages="100.00"))
    assert r.status_code == 201, r.text


def _no_determination_button(page: str, url: str) -> None:
    assert 'id="confirm-refused"' in page and "您不能确认这个认定结果" in page
    assert "确认认定结果</button>" not in page and f'action="{url}"' not in page


def test_who_sent_the_check_back_reads_why_instead_of_the_determination_button(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    for name in ("boss", "other", "planner"):
        users.add(name, "insurer_supervisor", counties=(COUNTY,))
    for name in ("o1", "o2", "o3", "o4"):
        users.add(name, "field_officer", counties=(COUNTY,))
    _checked_by(ctx, client, users, case_id, ["o1", "o2"], by="o1")
    url = f"/cases/{case_id}/determination"
    assert 'id="confirm-refused"' not in _page(client, users, "boss", url)  # nothing sent back yet: boss may
    r = client.post(f"/api/cases/{case_id}/send-back", headers=users.headers("boss"), json={"reason": "收入未核实"})
    assert r.status_code == 200, r.text
    _checked_by(ctx, client, users, case_id, ["o3", "o4"], by="o3")

    page = _page(client, users, "boss", url)
    _no_determination_button(page, url)
    assert "您退回过本案的核查" in page
    said = _refused(client, users, "boss", f"/api/cases/{case_id}/determination", {"confirm": True})
    assert said in page  # the page said it in the service's own words

    other = _page(client, users, "other", url)
    assert "确认认定结果</button>" in other and f'action="{url}"' in other and 'id="confirm-refused"' not in other


def test_a_supervisor_who_took_part_in_the_check_reads_why_instead_of_the_determination_button(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    users.add("boss", "insurer_supervisor", "field_officer", counties=(COUNTY,))
    for name in ("other", "planner"):
        users.add(name, "insurer_supervisor", counties=(COUNTY,))
    users.add("peer", "field_officer", counties=(COUNTY,))
    _checked_by(ctx, client, users, case_id, ["boss", "peer"], by="peer")  # an officer of it, not its recorder
    url = f"/cases/{case_id}/determination"

    page = _page(client, users, "boss", url)
    _no_determination_button(page, url)
    assert "本认定所依据的核查由您进行" in page
    said = _refused(client, users, "boss", f"/api/cases/{case_id}/determination", {"confirm": True})
    assert said in page

    other = _page(client, users, "other", url)
    assert "确认认定结果</button>" in other and 'id="confirm-refused"' not in other


def test_the_proposer_of_a_screen_out_reads_why_instead_of_confirming_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    case_id = bureau_case(ctx, client, users)
    url = f"/cases/{case_id}"
    before = _page(client, users, "clerk", url)  # nothing proposed yet: the clerk may choose 不通过
    assert 'name="decision" value="reject"' in before and 'id="screen-out-refused"' not in before
    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("clerk"),
                    json={"decision": "reject", "reason": "家庭收入稳定"})
    assert r.status_code == 200 and r.json()["status"] == "received", r.text

    page = _page(client, users, "clerk", url)
    assert 'id="screen-out-refused"' in page and "您不能确认这项初筛不通过" in page
    assert 'id="screening"' in page and 'value="pass"' in page  # 通过 (overturning it) stays theirs
    assert 'name="decision" value="reject"' not in page
    said = _refused(client, users, "clerk", f"/api/cases/{case_id}/screening",
                    {"decision": "reject", "reason": "核实：家庭有稳定工资收入"})
    assert said in page

    for allowed in ("clerk2", "reviewer"):
        seen = _page(client, users, allowed, url)
        assert 'name="decision" value="reject"' in seen and 'id="screen-out-refused"' not in seen


def test_the_recorder_of_a_village_fail_reads_why_instead_of_confirming_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    case_id = make_case(ctx)  # determined eligible by the insurer
    day = ctx.clock.today().isoformat()
    url = f"/cases/{case_id}"
    r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk"),
                    json={"held_on": day, "result": "fail", "note": "村民代表认为该户有稳定收入"})
    assert r.status_code == 201 and r.json()["case_status"] == "determined", r.text

    page = _page(client, users, "clerk", url)
    assert 'id="review-fail-refused"' in page and "您不能确认这项村级评议未通过" in page
    assert 'id="review"' in page and 'name="result" value="pass"' in page
    assert 'name="result" value="fail"' not in page
    said = _refused(client, users, "clerk", f"/api/cases/{case_id}/village-review",
                    {"held_on": day, "result": "fail", "note": ""})
    assert said in page

    allowed = _page(client, users, "clerk2", url)
    assert 'name="result" value="fail"' in allowed and 'id="review-fail-refused"' not in allowed


def test_the_original_determiner_reads_why_instead_of_the_redetermination_form(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from deviation_helpers import both_found_ineligible, held_and_paid_in_a_round
    from sqlalchemy import select

    from verifier.store.tables import Determination

    round_ = held_and_paid_in_a_round(ctx, client, users)
    both_found_ineligible(ctx, client, round_, "9000.00")
    users.add("boss", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup_other", "insurer_supervisor", counties=(COUNTY,))
    with ctx.db.begin() as session:  # the held case's determination was confirmed by `boss`
        session.scalars(select(Determination).where(Determination.case_id == round_.held)).one() \
            .confirmed_by = users.ids["boss"]
    url = f"/cases/{round_.held}"

    page = _page(client, users, "boss", url)
    assert 'id="redetermination-refused"' in page and "您不能重新认定本案" in page and "原认定由您确认" in page
    assert 'id="redetermination-form"' not in page and "保存重新认定</button>" not in page
    said = _refused(client, users, "boss", f"/api/cases/{round_.held}/redetermination",
                    {"outcome": "proceed", "reason": "核实无误，维持原认定"})
    assert said in page

    allowed = _page(client, users, "sup_other", url)
    assert 'id="redetermination-form"' in allowed and 'id="redetermination-refused"' not in allowed
