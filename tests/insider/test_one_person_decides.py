"""One person holding two roles may not carry a case past a second pair of eyes alone."""

from __future__ import annotations

from factories import make_case
from insider_kit import COUNTY, check_body, head_on_record, schedule


def test_attack_an_officer_who_is_also_a_supervisor_confirms_their_own_check(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A person holding field officer and supervisor, sent to the household, records the incomes and the payee at the
    door and would confirm the determination that pays it: refused; another supervisor confirms."""
    case_id = make_case(ctx, stage="screened")
    users.add("both", "field_officer", "insurer_supervisor", counties=(COUNTY,))
    users.add("peer", "field_officer", counties=(COUNTY,))
    users.add("other", "insurer_supervisor", counties=(COUNTY,))
    both, other = users.headers("both"), users.headers("other")
    today = ctx.clock.today().isoformat()
    # Scheduling themselves by hand is refused now (tests/insider/test_supervisor_picks_officers.py): another
    # supervisor sends them.
    r = client.post(f"/api/cases/{case_id}/schedule", headers=both, json={
        "officers": [users.ids["both"], users.ids["peer"]], "visit_on": today, "vehicle": "车01", "reason": "熟悉"})
    assert r.status_code == 422, r.text
    schedule(client, other, case_id, [users.ids["both"], users.ids["peer"]], today)
    r = client.post(f"/api/cases/{case_id}/check", headers=both,
                    json=check_body(*head_on_record(ctx, case_id), [users.ids["both"], users.ids["peer"]], today))
    assert r.status_code == 201, r.text

    r = client.post(f"/api/cases/{case_id}/determination", headers=both, json={"confirm": True})
    assert r.status_code == 403 and "本认定所依据的核查由您进行" in r.json()["detail"]
    assert client.get(f"/api/cases/{case_id}", headers=other).json()["status"] == "checked"
    # A preview (not confirmed) is still theirs to see; another supervisor confirms.
    assert client.post(f"/api/cases/{case_id}/determination", headers=both, json={"confirm": False}).status_code == 200
    r = client.post(f"/api/cases/{case_id}/determination", headers=other, json={"confirm": True})
    assert r.status_code == 200, r.text
