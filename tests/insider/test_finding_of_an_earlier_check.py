"""Who answered a register finding may not confirm the determination resting on it (four eyes), but that is the
finding of the check the determination rests on, not of every check of the case: counted case-wide, two supervisors,
one answering a finding of the first check and the other sending that check back, were both refused on the second
check, the office stuck, and the refusal said only 须由其他审核人员确认. Now the answerer of the earlier check's finding
confirms the second check's determination, a refusal says who may confirm, and an account linked by a password to
the answerer of the check's own finding is still refused."""

from __future__ import annotations

from factories import COUNTY
from send_back_kit import send_back, visited_again
from sqlalchemy import select
from test_register_finding_kin import _checked_with_a_vehicle

from verifier.registers.models import RegisterFinding
from verifier.store.tables import Check, User

NOTE = {"outcome": "explained", "note": "车辆已转让给他人"}
WHO_MAY = "须是未处理过本认定所依据核查的比对发现、未退回过本案核查、也未参加该核查的保险公司审核人员"


def _open_finding_of_latest_check(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        check_id = session.scalar(select(Check.id).where(Check.case_id == case_id).order_by(Check.seq.desc()))
        found = session.scalar(select(RegisterFinding.id).where(RegisterFinding.check_id == check_id,
                                                                RegisterFinding.status == "open"))
    assert found is not None
    return str(found)


def test_one_supervisor_answers_the_first_checks_finding_the_other_sends_it_back(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id, _, finding = _checked_with_a_vehicle(ctx, client, users)
    users.add("sup_a", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup_b", "insurer_supervisor", counties=(COUNTY,))
    a, b = users.headers("sup_a"), users.headers("sup_b")
    assert client.post(f"/api/findings/{finding}/answer", headers=a, json=NOTE).status_code == 200
    # A, having answered the check's finding, is refused, told who may confirm
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=a)
    assert r.status_code == 403 and WHO_MAY in r.json()["detail"], r.text
    send_back(client, case_id, b, "车辆转让情况需要入户再次核实")
    visited_again(ctx, client, case_id, b, team=78, visit_on=ctx.clock.today().isoformat(), note="再次核实车辆情况")
    # the second check meets the register again: B (who sent the first back) answers its finding
    second = _open_finding_of_latest_check(ctx, case_id)
    assert second != finding
    assert client.post(f"/api/findings/{second}/answer", headers=b, json=NOTE).status_code == 200

    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=b)
    assert r.status_code == 403 and "退回过本案的核查" in r.json()["detail"], r.text
    page = client.get(f"/cases/{case_id}/determination", headers=a)
    assert page.status_code == 200 and 'id="confirm-refused"' not in page.text
    # A answered only the first check's finding: A confirms the second check's determination
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=a)
    assert r.status_code == 200, r.text


def test_an_account_linked_to_the_answerer_is_still_refused(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id, _, finding = _checked_with_a_vehicle(ctx, client, users)
    users.add("sup_a", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup_pal", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup_c", "insurer_supervisor", counties=(COUNTY,))
    with ctx.db.begin() as session:  # A last set the pal account's password (and so knew one)
        session.get(User, users.ids["sup_pal"]).password_set_by = users.ids["sup_a"]
    assert client.post(f"/api/findings/{finding}/answer", headers=users.headers("sup_a"), json=NOTE).status_code == 200
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=users.headers("sup_pal"))
    assert r.status_code == 403, r.text
    assert "密码关联" in r.json()["detail"] and "处理过本认定所依据核查的比对发现的人员" in r.json()["detail"], r.text
    page = client.get(f"/cases/{case_id}/determination", headers=users.headers("sup_pal"))
    assert page.status_code == 200 and 'id="confirm-refused"' in page.text and "密码关联" in page.text
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=users.headers("sup_c"))
    assert r.status_code == 200, r.text
