"""Objections carry who raised them (anonymous, or their relation to the household), how they were received and
the day they were resolved; the free text reaches the audit log only as hashes."""

from __future__ import annotations

import json

from factories import make_case
from sqlalchemy import select

from verifier.audit.models import AuditEntry

from .helpers import fields, review

COUNTY = "340223"


def _notice(client, users, ctx):  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    clerk = users.headers("clerk")
    case_id = make_case(ctx, village="东村", head_name="张三丰")
    assert review(client, clerk, case_id).status_code == 201
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": "2020-06-01"})
    assert r.status_code == 201, r.text
    return clerk, r.json()["id"], case_id


def _decider(users):  # type: ignore[no-untyped-def]
    """Another clerk of the town: a dismissal is never decided by whoever recorded the objection or posted the notice."""
    if "clerk2" not in users.ids:
        users.add("clerk2", "town_clerk", counties=(COUNTY,))
    return users.headers("clerk2")


def _payloads(ctx, action: str) -> list[dict]:  # type: ignore[type-arg]
    with ctx.db.read() as session:
        raw = session.scalars(select(AuditEntry.entry).where(AuditEntry.action == action).order_by(AuditEntry.idx))
        return [json.loads(e)["payload"] for e in raw]


def test_objection_records_who_how_and_when_resolved(client, users, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    clerk, nid, case_id = _notice(client, users, ctx)
    clock.advance(days=3)
    r = client.post(f"/api/notices/{nid}/objections", headers=clerk,
                    json={"case_id": case_id, "received_on": "2020-06-02", "summary": "反映该户有经营收入未申报",
                          "raised_by": "neighbour", "received_via": "box"})
    assert r.status_code == 201, r.text
    obj = r.json()
    assert (obj["raised_by"], obj["received_via"], obj["resolved_on"]) == ("neighbour", "box", None)

    # Resolved on a day before the objection was received, or in the future: refused, nothing changes.
    for day in ("2020-06-01", "2020-06-30"):
        r = client.post(f"/api/objections/{obj['id']}/resolution", headers=_decider(users),
                        json={"outcome": "dismissed", "note": "经核实无误", "resolved_on": day})
        assert r.status_code == 422 and fields(r) == {"resolved_on"}, r.text
    assert client.get(f"/api/objections/{obj['id']}", headers=clerk).json()["status"] == "open"

    r = client.post(f"/api/objections/{obj['id']}/resolution", headers=_decider(users),
                    json={"outcome": "dismissed", "note": "经核实，经营收入已计入", "resolved_on": "2020-06-03"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["resolution_note"], out["resolved_on"]) == ("dismissed", "经核实，经营收入已计入", "2020-06-03")
    notice = client.get(f"/api/notices/{nid}", headers=clerk).json()
    assert notice["objections"][0]["raised_by"] == "neighbour" and notice["objections"][0]["resolved_on"] == "2020-06-03"

    # The log keeps the codes and the day; the texts only as hashes.
    [recorded] = _payloads(ctx, "objection.record")
    assert recorded["raised_by"] == "neighbour" and recorded["received_via"] == "box" and "summary_sha256" in recorded
    [resolved] = _payloads(ctx, "objection.resolve")
    assert resolved["resolved_on"] == "2020-06-03" and "note_sha256" in resolved
    with ctx.db.read() as session:
        text = b"".join(session.scalars(select(AuditEntry.entry))).decode("utf-8")
    assert "经营收入" not in text and "\\u7ecf" not in text


def test_objection_fields_are_optional_and_checked(client, users, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    clerk, nid, case_id = _notice(client, users, ctx)
    for bad in ({"raised_by": "mayor"}, {"received_via": "email"}):
        r = client.post(f"/api/notices/{nid}/objections", headers=clerk,
                        json={"case_id": case_id, "received_on": "2020-06-01", "summary": "反映", **bad})
        assert r.status_code in (400, 422), r.text
    r = client.post(f"/api/notices/{nid}/objections", headers=clerk,
                    json={"case_id": case_id, "received_on": "2020-06-01", "summary": "匿名反映"})
    assert r.status_code == 201 and r.json()["raised_by"] is None
    r = client.post(f"/api/objections/{r.json()['id']}/resolution", headers=_decider(users), json={"outcome": "dismissed"})
    assert r.status_code == 200 and r.json()["resolved_on"] == clock.today().isoformat()
