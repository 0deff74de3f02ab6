"""An ineligible household is told why (a .docx result letter) and may ask for a review within the contract's
period; the review is checked again by officers who did not make the first check."""

from __future__ import annotations

import io

import docx
from factories import COUNTY, make_case, staff
from sqlalchemy import select

from verifier.store.tables import User, Visit


def _first_team(ctx, case_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        visit = session.scalar(select(Visit).where(Visit.case_id == case_id).order_by(Visit.created_at).limit(1))
        return set(visit.officer_ids)


def _text(content: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)


def test_letter_then_review_by_other_officers(client, users, ctx, clock) -> None:
    case_id = make_case(ctx, wages=9_000_000, stable_income=True, head_name="李四")  # ineligible on 2020-06-01
    first = _first_team(ctx, case_id)
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    clerk, sup = users.headers("clerk"), users.headers("sup")
    assert client.get(f"/api/cases/{case_id}", headers=sup).json()["status"] == "ineligible"

    r = client.get(f"/api/cases/{case_id}/result-letter", headers=clerk)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    text = _text(r.content)
    assert "李四户：" in text and "认定为不符合救助条件" in text
    assert "高于收入线 5,200.00 元，且家庭有稳定收入来源" in text  # the reason in plain words
    assert "2020年6月16日前（含当日）" in text and "复核申请" in text  # 15 days, the contract's default
    # An eligible case has no such letter.
    eligible = make_case(ctx)
    assert client.get(f"/api/cases/{eligible}/result-letter", headers=clerk).status_code == 409

    # Bad input first: every problem named, nothing changed.
    r = client.post(f"/api/cases/{case_id}/review-request", headers=clerk,
                    json={"received_on": "2020-05-20", "summary": "  "})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"received_on", "summary"}
    assert client.get(f"/api/cases/{case_id}", headers=sup).json()["status"] == "ineligible"

    # Too late: after the period.
    clock.advance(days=20)
    r = client.post(f"/api/cases/{case_id}/review-request", headers=clerk,
                    json={"received_on": "2020-06-17", "summary": "收入已下降"})
    assert r.status_code == 409
    assert r.json()["detail"] == "复核申请期限已于 2020-06-16 截止：2020-06-17 收到的申请已逾期，不能登记"

    r = client.post(f"/api/cases/{case_id}/review-request", headers=clerk,
                    json={"received_on": "2020-06-10", "summary": "家中主要劳动力已失业，收入已下降"})
    assert r.status_code == 201, r.text
    detail = client.get(f"/api/cases/{case_id}", headers=sup).json()
    assert detail["status"] == "screened"
    assert detail["history"][-1]["action"] == "case.request_review"
    # A second request for the same decision is refused: the case is no longer ineligible.
    r = client.post(f"/api/cases/{case_id}/review-request", headers=clerk,
                    json={"received_on": "2020-06-10", "summary": "再次申请"})
    assert r.status_code == 409 and r.json()["detail"] == "只有认定为不符合条件的案件才能出具告知书、申请复核（当前状态：已初筛）"

    # The officers of the first check may not make the review's check, by hand or by the planner.
    with ctx.db.read() as session:
        first_names = [session.get(User, o).username for o in sorted(first)]
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup,
                    json={"officers": first_names, "visit_on": "2020-06-22", "vehicle": "车01"})
    assert r.status_code == 422
    assert all("参加过本案首次核查" in e["message"] for e in r.json()["errors"])
    other = staff(ctx, COUNTY, team=90)
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": "2020-06-22", "days": 3})
    assert r.status_code == 200, r.text
    planned = {a["case_id"]: a for a in r.json()["assignments"]}
    assert not set(planned[case_id]["officers"]) & first
    # The review is due within the contract's days of the request, not of the first referral.
    assert planned[case_id]["due_on"] == "2020-06-20"
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [other.officer1.id, other.officer2.id], "visit_on": "2020-06-22", "vehicle": "车90"})
    assert r.status_code == 200, r.text
    assert r.json()["due_on"] == "2020-06-20" and r.json()["days_late"] == 2


def test_only_the_clerk_records_a_review_request_and_only_in_county(client, users, ctx) -> None:
    case_id = make_case(ctx, wages=9_000_000, stable_income=True)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("far-clerk", "town_clerk", counties=("340224",))
    body = {"received_on": "2020-06-01", "summary": "不服"}
    assert client.post(f"/api/cases/{case_id}/review-request", headers=users.headers("sup"), json=body).status_code == 403
    assert client.post(f"/api/cases/{case_id}/review-request", headers=users.headers("far-clerk"),
                       json=body).status_code == 404
    assert client.get(f"/api/cases/{case_id}/result-letter", headers=users.headers("far-clerk")).status_code == 404
