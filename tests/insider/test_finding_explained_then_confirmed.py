"""A register finding (another agency's register lists a member's car) holds the determination until an insurer
supervisor answers it. One supervisor alone explaining the car away and then confirming the determination resting on
that explanation is one person deciding the household's relief: who answered a finding of the case may not confirm
its determination (403 over the API, said on the determination page instead of the button); another supervisor
confirms it."""

from __future__ import annotations

from factories import COUNTY
from test_register_finding_kin import _checked_with_a_vehicle

SAID = "按“四眼原则”，您处理过本案的比对发现，认定结果须由其他审核人员确认"


def test_attack_a_supervisor_explains_the_car_away_and_confirms_himself(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id, _, finding = _checked_with_a_vehicle(ctx, client, users)
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup3", "insurer_supervisor", counties=(COUNTY,))
    shown = client.get(f"/cases/{case_id}", headers=users.headers("sup2"))  # the answer form says so beforehand
    assert shown.status_code == 200 and "处理过本次核查比对发现的审核人员不能再确认依据本次核查的认定结果" in shown.text
    r = client.post(f"/api/findings/{finding}/answer", headers=users.headers("sup2"),
                    json={"outcome": "explained", "note": "车辆已转让给他人"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=users.headers("sup2"))
    assert r.status_code == 403 and SAID in r.text, r.text
    page = client.get(f"/cases/{case_id}/determination", headers=users.headers("sup2"))
    assert page.status_code == 200 and 'id="confirm-refused"' in page.text and SAID in page.text
    r = client.post(f"/cases/{case_id}/determination", headers=users.headers("sup2"), data={},
                    follow_redirects=False)
    assert r.status_code in (403, 409) and "处理过本案的比对发现" in r.text
    assert client.get(f"/api/cases/{case_id}", headers=users.headers("sup2")).json()["status"] == "checked"
    # another supervisor confirms it
    page = client.get(f"/cases/{case_id}/determination", headers=users.headers("sup3"))
    assert page.status_code == 200 and 'id="confirm-refused"' not in page.text
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=users.headers("sup3"))
    assert r.status_code == 200, r.text
