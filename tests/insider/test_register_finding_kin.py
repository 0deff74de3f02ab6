"""A register finding (部门信息比对发现: another agency's register says a member owns a car, holds a public job …) holds
the determination until an insurer supervisor answers it: explained (it does not exclude the household) or upheld.
Explaining it away is the decision that keeps the household eligible, so a supervisor who declared a relative among
the household's members may not answer it (回避, step `register_finding`): over the API and on the case's page, 422
with 与本户成员存在回避关系, the finding left open, the refusal on record. A colleague answers it."""

from __future__ import annotations

from datetime import timedelta

from factories import COUNTY, staff
from insider_kit import declare_ties, refusals_of, refused_both_ways
from register_kit import confirm_over_api
from sqlalchemy import select

from verifier import demo
from verifier.registers.models import RegisterFinding


def _checked_with_a_vehicle(ctx, client, users):  # type: ignore[no-untyped-def]
    """A household checked after the vehicle register listed its second member: (case id, the member's ID number,
    the finding's id)."""
    s = staff(ctx)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", "东村")
    case_id = demo.refer(ctx, team, hh, referred_on=ctx.clock.today() - timedelta(days=3))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    data = ("身份证号,号牌号码,车辆价值\r\n" + f"{hh.id_numbers[1]},皖B11111,150000.00\r\n").encode()
    r = client.post("/api/registers/imports", headers=users.headers("rev"),
                    files={"file": ("车辆.csv", data, "application/octet-stream")},
                    data={"county_code": COUNTY, "kind": "vehicle"})
    assert r.status_code == 201, r.text
    users.add("rev-second", "county_reviewer", counties=(COUNTY,))  # in force once a second reviewer confirms it
    assert confirm_over_api(client, users.headers("rev-second"), r.json()["import_id"]).status_code == 200
    demo.advance_to(ctx, team, case_id, hh, "checked", on=ctx.clock.today(), vehicle="车001")
    with ctx.db.read() as session:
        finding = session.scalar(select(RegisterFinding.id).where(RegisterFinding.case_id == case_id))
    assert finding is not None
    return case_id, hh.id_numbers[1], finding


def _status(ctx, finding: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return str(session.scalar(select(RegisterFinding.status).where(RegisterFinding.id == finding)))


def test_attack_a_supervisor_explains_away_his_brothers_car(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id, brother, finding = _checked_with_a_vehicle(ctx, client, users)
    users.add("kin", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    declare_ties(client, users.headers("kin"), brother)
    answer = {"outcome": "explained", "note": "车辆已转让给他人"}
    refused_both_ways(ctx, client, users, "kin", api=f"/api/findings/{finding}/answer", body=answer,
                      opened=f"/cases/{case_id}", page=f"/cases/{case_id}/findings/{finding}/answer", form=answer)
    assert _status(ctx, finding) == "open"
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [
        ("register_finding", case_id), ("register_finding", case_id)]
    # a colleague answers it
    r = client.post(f"/api/findings/{finding}/answer", headers=users.headers("sup2"),
                    json={"outcome": "explained", "note": "车辆已转让给他人"})
    assert r.status_code == 200, r.text
    assert _status(ctx, finding) == "explained"
