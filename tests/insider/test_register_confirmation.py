"""A bureau's register (vehicles, businesses, public jobs …) decides which households a check finds something on; of
one kind and bureau only the latest is consulted. One county reviewer could import a "new version" leaving a
household's car out and so clear its finding alone. An import is now a proposal, consulted by no cross-check, until
another county reviewer of the county confirms it, having seen what it changes against the version in force (rows
added and removed, the households whose findings would clear): not its importer, not an account linked to the
importer's by a password (403, kept on 回避拦截记录), not a reviewer tied to one of those households (422, kept too);
a second or stale confirmation is 409 in Chinese. Either may decline it with a reason (logged as its SHA-256 only)."""

from __future__ import annotations

import json
from datetime import timedelta

from factories import COUNTY, staff
from insider_kit import KIN_REFUSAL, declare_ties, entries_but_refusals, refusals_of
from register_kit import confirm_over_api
from sqlalchemy import select

from verifier import demo
from verifier.audit.log import text_digest
from verifier.accounts.auth import Principal
from verifier.audit.models import AuditEntry
from verifier.registers import confirmation
from verifier.registers.models import RegisterFinding, RegisterImport
from verifier.store.tables import User

HEADER = "身份证号,号牌号码,车辆价值"


def _referred(ctx):  # type: ignore[no-untyped-def]
    s = staff(ctx)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", "东村")
    return team, hh, demo.refer(ctx, team, hh, referred_on=ctx.clock.today() - timedelta(days=3))


def _post(client, headers, rows: list[str], name: str):  # type: ignore[no-untyped-def]
    data = ("\r\n".join([HEADER, *rows]) + "\r\n").encode()
    r = client.post("/api/registers/imports", headers=headers, files={"file": (name, data, "text/csv")},
                    data={"county_code": COUNTY, "kind": "vehicle"})
    assert r.status_code == 201, r.text
    return r.json()


def _findings(ctx, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return list(session.scalars(select(RegisterFinding.kind).where(RegisterFinding.case_id == case_id)))


def _status(ctx, import_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return str(session.scalar(select(RegisterImport.status).where(RegisterImport.id == import_id)))


def test_attack_one_reviewer_imports_a_version_without_the_car(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    for name in ("rev", "rev2", "rev_pal", "rev_kin"):
        users.add(name, "county_reviewer", counties=(COUNTY,))
    users.add("far", "county_reviewer", counties=("340224",))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    with ctx.db.begin() as session:  # rev knows a password of rev_pal's account (set it, as an admin's reset)
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev"]
    (team, a, case_a), (_, a2, case_a2), (_, b, _) = _referred(ctx), _referred(ctx), _referred(ctx)
    cars = [f"{a.id_numbers[1]},皖B11111,150000.00", f"{a2.id_numbers[0]},皖B22222,180000.00",
            f"{b.id_numbers[0]},皖B33333,120000.00"]
    v1 = _post(client, users.headers("rev"), cars, "车辆1.csv")
    assert v1["status"] == "pending"
    assert confirm_over_api(client, users.headers("rev2"), v1["import_id"]).status_code == 200

    # rev imports a "new version" leaving A's and A2's cars out: stored, pending, consulted by nobody.
    v2 = _post(client, users.headers("rev"), cars[2:], "车辆2.csv")["import_id"]
    assert _status(ctx, v2) == "pending"
    demo.advance_to(ctx, team, case_a, a, "checked", on=ctx.clock.today(), vehicle="车001")
    assert _findings(ctx, case_a) == ["vehicle"]  # the car in force still found: the finding did not clear

    # What the confirmer sees first: against the version in force, 2 rows removed, 2 households' findings clearing.
    seen = client.get(f"/api/registers/imports/{v2}/change", headers=users.headers("rev2")).json()
    assert (seen["replaces"], seen["rows_added"], seen["rows_removed"], seen["people_removed"],
            seen["households_clearing"]) == (v1["import_id"], 0, 2, 2, 2)
    assert seen["may_confirm"] is True
    body = {"replaces": v1["import_id"]}

    # Nobody but a county reviewer of the county confirms it;
    for who, status in (("far", 404), ("sup", 403)):
        r = client.post(f"/api/registers/imports/{v2}/confirm", headers=users.headers(who), json=body)
        assert r.status_code == status, r.text
    # its importer may not confirm it; nor an account linked to the importer's by a password (kept on record).
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/registers/imports/{v2}/confirm", headers=users.headers("rev"), json=body)
    assert r.status_code == 403 and "您导入的" in r.json()["detail"], r.text
    own = client.get(f"/api/registers/imports/{v2}/change", headers=users.headers("rev")).json()
    assert own["may_confirm"] is False and "您导入的" in own["refusal"]
    r = client.post(f"/api/registers/imports/{v2}/confirm", headers=users.headers("rev_pal"), json=body)
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    assert [(e["step"], e["subject"], e["county_code"]) for e in refusals_of(ctx, users.ids["rev_pal"])] == [
        ("register_confirm", v2, COUNTY)]
    # nor a reviewer who declared a relative in a household whose finding it clears
    declare_ties(client, users.headers("rev_kin"), a2.id_numbers[0])
    before_kin = entries_but_refusals(ctx)
    r = client.post(f"/api/registers/imports/{v2}/confirm", headers=users.headers("rev_kin"), json=body)
    assert r.status_code == 422 and KIN_REFUSAL in r.text, r.text
    assert entries_but_refusals(ctx) == before_kin
    assert [e["step"] for e in refusals_of(ctx, users.ids["rev_kin"])] == ["register_confirm"]
    assert _status(ctx, v2) == "pending" and entries_but_refusals(ctx) - before == 1  # the kin's declaration only

    # A confirmation sent against another version than the one in force is stale: 409, in Chinese.
    r = client.post(f"/api/registers/imports/{v2}/confirm", headers=users.headers("rev2"), json={"replaces": None})
    assert r.status_code == 409 and "已经变更" in r.json()["detail"], r.text
    assert _status(ctx, v2) == "pending"

    # A second reviewer, having seen the change, confirms it: from now on the cars left out are no longer found.
    r = client.post(f"/api/registers/imports/{v2}/confirm", headers=users.headers("rev2"), json=body)
    assert r.status_code == 200 and r.json()["status"] == "confirmed" and r.json()["confirmed_by"] == users.ids["rev2"]
    r = client.post(f"/api/registers/imports/{v2}/confirm", headers=users.headers("rev2"), json=body)
    assert r.status_code == 409 and "已确认生效" in r.json()["detail"], r.text
    demo.advance_to(ctx, team, case_a2, a2, "checked", on=ctx.clock.today(), vehicle="车001")
    assert _findings(ctx, case_a2) == []
    with ctx.db.read() as session:
        logged = json.loads(session.scalar(select(AuditEntry.entry).where(AuditEntry.action == "registers.confirm",
                                                                          AuditEntry.subject == v2)))["payload"]
    assert (logged["replaces"], logged["rows_removed"], logged["households_clearing"], logged["imported_by"]) == (
        v1["import_id"], 2, 2, users.ids["rev"])


def test_a_proposal_is_declined_with_a_reason_kept_as_its_digest(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    for name in ("rev", "rev2", "sup"):
        users.add(name, "county_reviewer" if name != "sup" else "insurer_supervisor", counties=(COUNTY,))
    _, hh, _ = _referred(ctx)
    proposal = _post(client, users.headers("rev"), [f"{hh.id_numbers[0]},皖B11111,150000.00"], "车辆.csv")
    import_id = proposal["import_id"]
    r = client.post(f"/api/registers/imports/{import_id}/decline", headers=users.headers("sup"),
                    json={"reason": "x"})
    assert r.status_code == 403
    r = client.post(f"/api/registers/imports/{import_id}/decline", headers=users.headers("rev2"), json={"reason": " "})
    assert r.status_code == 422 and "原因" in r.text
    reason = "与交警大队核实，此文件不是正式报送版本"
    r = client.post(f"/api/registers/imports/{import_id}/decline", headers=users.headers("rev2"),
                    json={"reason": reason})
    assert r.status_code == 200 and r.json()["status"] == "declined", r.text
    for who in ("rev2", "rev"):
        r = client.post(f"/api/registers/imports/{import_id}/decline", headers=users.headers(who),
                        json={"reason": reason})
        assert r.status_code == 409 and "已退回" in r.json()["detail"]
    r = client.post(f"/api/registers/imports/{import_id}/confirm", headers=users.headers("rev2"),
                    json={"replaces": None})
    assert r.status_code == 409 and "已退回" in r.json()["detail"]
    with ctx.db.read() as session:
        entry = bytes(session.scalar(select(AuditEntry.entry).where(AuditEntry.action == "registers.decline")))
    assert reason.encode() not in entry and json.loads(entry)["payload"]["reason_sha256"] == text_digest(reason)
    # the same file again is a new proposal for another look, not "already imported"
    again = _post(client, users.headers("rev"), [f"{hh.id_numbers[0]},皖B11111,150000.00"], "车辆.csv")
    assert not again["repeated"] and again["import_id"] != import_id and again["status"] == "pending"


def test_attack_the_register_in_force_kept_by_declining_its_correction(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """rev imports a version leaving a relative's car out and rev2 confirms it unawares. rev3 imports the bureau's
    correction with the car: neither rev (the importer of the version in force) nor rev's second account may decline
    it alone and keep their register in force; another reviewer may (its confirmer too), an importer withdraws their
    own."""
    for name in ("rev", "rev2", "rev3", "rev_pal", "rev_kin"):
        users.add(name, "county_reviewer", counties=(COUNTY,))
    with ctx.db.begin() as session:  # rev knows a password of rev_pal's account (set it, as an admin's reset)
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev"]
    _, hh, _ = _referred(ctx)
    other = f"{_referred(ctx)[1].id_numbers[0]},皖B22222,120000.00"
    v1 = _post(client, users.headers("rev"), [other], "车辆1.csv")["import_id"]
    assert confirm_over_api(client, users.headers("rev2"), v1).status_code == 200
    fixed = _post(client, users.headers("rev3"), [other, f"{hh.id_numbers[0]},皖B11111,150000.00"], "车辆2.csv")
    fixed_id, body = fixed["import_id"], {"reason": "与交警大队核实，此文件不是正式报送版本"}
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/registers/imports/{fixed_id}/decline", headers=users.headers("rev"), json=body)
    assert r.status_code == 403 and f"现行的同类名单（{v1}）是您导入的" in r.json()["detail"], r.text
    r = client.post(f"/api/registers/imports/{fixed_id}/decline", headers=users.headers("rev_pal"), json=body)
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    assert [(e["step"], e["subject"]) for e in refusals_of(ctx, users.ids["rev_pal"])] == [
        ("register_decline", fixed_id)]
    assert _status(ctx, fixed_id) == "pending" and entries_but_refusals(ctx) == before
    # nor a reviewer who declared a relative in the household whose car the correction adds (回避, kept on record)
    declare_ties(client, users.headers("rev_kin"), hh.id_numbers[0])
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/registers/imports/{fixed_id}/decline", headers=users.headers("rev_kin"), json=body)
    assert r.status_code == 422 and KIN_REFUSAL in r.text, r.text
    assert [(e["step"], e["county_code"]) for e in refusals_of(ctx, users.ids["rev_kin"])] == [
        ("register_decline", COUNTY)]
    assert _status(ctx, fixed_id) == "pending" and entries_but_refusals(ctx) == before
    # the page's read model says why instead of offering the form; to another reviewer it offers it
    with ctx.db.read() as session:
        seen = {who: confirmation.review(session, fixed_id, Principal(
            id=users.ids[who], username=who, display_name=who, roles=("county_reviewer",), counties=(COUNTY,)),
            ctx.clock.today()).decline_refusal for who in ("rev", "rev_pal", "rev2", "rev3")}
    assert "是您导入的" in seen["rev"] and "密码关联" in seen["rev_pal"]
    assert seen["rev2"] is None and seen["rev3"] is None
    # the change the API shows says the same, from the same rule
    for who in ("rev", "rev_pal", "rev2", "rev3"):
        shown = client.get(f"/api/registers/imports/{fixed_id}/change", headers=users.headers(who)).json()
        assert (shown["may_decline"], shown["decline_refusal"]) == (seen[who] is None, seen[who]), (who, shown)
    # its importer withdraws their own; another reviewer (here the confirmer of the version in force) declines one
    again = _post(client, users.headers("rev"), [other, f"{hh.id_numbers[0]},皖B33333,150000.00"], "车辆3.csv")
    r = client.post(f"/api/registers/imports/{again['import_id']}/decline", headers=users.headers("rev"), json=body)
    assert r.status_code == 200 and r.json()["status"] == "declined", r.text
    r = client.post(f"/api/registers/imports/{fixed_id}/decline", headers=users.headers("rev2"), json=body)
    assert r.status_code == 200 and r.json()["declined_by"] == users.ids["rev2"], r.text


def test_two_proposals_confirmed_at_once_bring_one_in_force(ctx, database_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two proposals of one kind and bureau, each counted against the same version in force and confirmed at the same
    moment: one comes in force; the other is refused (409: the version in force changed, or is newer than it)."""
    import threading

    import register_kit
    from race_kit import race_twice

    from verifier.accounts.auth import Principal
    from verifier.domain.errors import InvalidState
    from verifier.registers import confirmation, service

    reviewer = Principal(id="usr_importer", username="rev", display_name="rev", roles=("county_reviewer",),
                         counties=(COUNTY,))
    people = [demo.new_household("城关镇", "东村").id_numbers[0] for _ in range(3)]

    def imported(rows: list[str], name: str) -> str:
        data = ("\r\n".join([HEADER, *rows]) + "\r\n").encode()
        return service.import_register(ctx.db, vault=ctx.vault, data=data, filename=name, kind="vehicle",
                                       county_code=COUNTY, principal=reviewer, clock=ctx.clock,
                                       limits=ctx.settings.imports).import_id

    v1 = imported([f"{p},皖B1{i},150000.00" for i, p in enumerate(people)], "v1.csv")
    register_kit.confirm(ctx, v1, COUNTY)
    proposals = [imported([f"{people[0]},皖B10,150000.00"], "p1.csv"), imported([f"{people[1]},皖B11,150000.00"],
                                                                                "p2.csv")]
    second = register_kit.second_reviewer(COUNTY)
    changes = {p: confirmation.compare(ctx.db, p, second, ctx.clock) for p in proposals}
    turn = iter(proposals)
    lock = threading.Lock()

    def confirm(db):  # type: ignore[no-untyped-def]
        with lock:
            mine = next(turn)
        try:
            with db.begin() as session:
                return confirmation.confirm(session, mine, principal=second, clock=ctx.clock, change=changes[mine],
                                       replaces=v1).status
        except InvalidState as exc:
            return exc.detail

    answers = race_twice(monkeypatch, confirmation, "current_of", database_url, confirm)
    # the other is refused: its change counted against a version no longer in force, or (the later proposal first
    # in force) it is older than the one in force
    refusals = {confirmation.REGISTER_MOVED, confirmation.OLDER_THAN_CURRENT.format(id=proposals[1])}
    assert answers.count("confirmed") == 1 and {a for a in answers if a != "confirmed"} <= refusals, answers
    with ctx.db.read() as session:
        statuses = sorted(session.scalars(select(RegisterImport.status).where(RegisterImport.id.in_(proposals))))
    assert statuses == ["confirmed", "pending"]
