"""One county reviewer alone puts people on the county's roster: the roster decides each household's group
(非高标准脱贫户 or 非贫低收入户) and so which relief tiers apply. An import is pending until another county reviewer of
the county confirms it; the importer cannot (nor an account whose password the importer set, or that set the
importer's), another county's reviewer does not even find it, a supervisor or clerk cannot; nothing changes the
roster any lookup reads until then."""

from __future__ import annotations

import pytest
from factories import COUNTY, new_id_number
from roster_kit import confirm as kit_confirm
from sqlalchemy import select

from verifier.accounts.auth import principal_of
from verifier.accounts.service import add_user
from verifier.audit.models import AuditEntry
from verifier.domain.errors import Forbidden
from verifier.referrals import service as referrals
from verifier.roster import service as roster
from verifier.roster.models import RosterImport

OTHER = "340224"


def _csv(rows: list[tuple[str, str]]) -> bytes:
    return ("证件号码,类别\r\n" + "".join(f"{i},{c}\r\n" for i, c in rows)).encode("gbk")


def _post(client, headers, data: bytes, county: str = COUNTY):  # type: ignore[no-untyped-def]
    return client.post("/api/roster/imports", files={"file": ("名册.csv", data, "application/octet-stream")},
                       data={"county_code": county}, headers=headers)


def _groups(ctx, people: list[str]) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return referrals.roster_groups(session, ctx.vault, COUNTY, people)  # None: the county has no roster in force


def _state(ctx) -> tuple[list[tuple[str, str]], list[str]]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        imports = [(r.id, r.status) for r in session.scalars(select(RosterImport).order_by(RosterImport.id))]
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("roster.%"))
                                       .order_by(AuditEntry.idx)))
    return imports, actions


def test_attack_a_reviewer_puts_her_friend_on_the_roster_and_confirms_it_herself(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    friend = new_id_number()
    assert _groups(ctx, [friend]) is None
    r = _post(client, users.headers("rev"), _csv([(friend, "脱贫户")]))
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    import_id = r.json()["import_id"]
    assert _groups(ctx, [friend]) is None  # pending: not the county's roster
    before = _state(ctx)

    r = client.post(f"/api/roster/imports/{import_id}/confirm", headers=users.headers("rev"))
    assert r.status_code == 403 and "四眼原则" in r.text and "另一名县级复核员" in r.text, r.text
    page = client.post(f"/roster/{import_id}/confirm", headers=users.headers("rev"))
    assert page.status_code == 403 and "须由本县另一名县级复核员确认" in page.text
    assert _state(ctx) == before and before[1] == ["roster.import"]
    assert _groups(ctx, [friend]) is None


def test_attack_the_reviewer_confirms_with_an_account_whose_password_she_set(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    rev_id = users.add("rev", "county_reviewer", "admin", counties=(COUNTY,))
    friend = new_id_number()
    r = _post(client, users.headers("rev"), _csv([(friend, "脱贫户")]))
    import_id = r.json()["import_id"]
    with ctx.db.begin() as session:  # an account she opened with a password of her choosing
        puppet = principal_of(add_user(session, username="puppet", password="given-by-rev", roles=["county_reviewer"],
                                       counties=[COUNTY], actor=rev_id, change_required=True, clock=ctx.clock))
    with pytest.raises(Forbidden, match="有关联"):
        roster.confirm_import(ctx.db, import_id, principal=puppet, clock=ctx.clock)
    # and the other way round: the puppet account imports, she confirms
    with ctx.db.begin() as session:
        roster.reject(session, import_id, principal=principal_of_id(ctx, rev_id), reason="换一份", clock=ctx.clock)
    second = roster.import_roster(ctx.db, vault=ctx.vault, data=_csv([(friend, "脱贫不稳定户")]), filename="b.csv",
                                  county_code=COUNTY, principal=puppet, clock=ctx.clock, limits=ctx.settings.imports)
    r = client.post(f"/api/roster/imports/{second.import_id}/confirm", headers=users.headers("rev"))
    assert r.status_code == 403 and "有关联" in r.text, r.text
    assert _groups(ctx, [friend]) is None


def principal_of_id(ctx, user_id: str):  # type: ignore[no-untyped-def]
    from verifier.store.tables import User

    with ctx.db.read() as session:
        return principal_of(session.get(User, user_id))


def test_another_countys_reviewer_a_supervisor_or_a_clerk_cannot_confirm(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("far", "county_reviewer", counties=(OTHER,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    friend = new_id_number()
    import_id = _post(client, users.headers("rev"), _csv([(friend, "脱贫户")])).json()["import_id"]
    before = _state(ctx)
    far = users.headers("far")
    for path in (f"/api/roster/imports/{import_id}/confirm", "/api/roster/imports/ros_made_up/confirm"):
        r = client.post(path, headers=far)
        assert r.status_code == 404 and "没有这份名册导入" in r.text, r.text
    real = client.get(f"/api/roster/imports/{import_id}/change", headers=far)
    made_up = client.get("/api/roster/imports/ros_made_up/change", headers=far)
    assert real.status_code == made_up.status_code == 404 and real.json() == made_up.json()
    assert client.get(f"/roster/{import_id}", headers=far).status_code == 404
    assert client.get("/api/roster/imports", headers=far).json() == []
    r = client.post(f"/api/roster/imports/{import_id}/reject", headers=far, json={"reason": "不对"})
    assert r.status_code == 404
    for who in ("sup", "clerk"):
        assert client.post(f"/api/roster/imports/{import_id}/confirm", headers=users.headers(who)).status_code == 403
        assert client.post(f"/api/roster/imports/{import_id}/reject", headers=users.headers(who),
                           json={"reason": "不对"}).status_code == 403
    assert _state(ctx) == before
    assert _groups(ctx, [friend]) is None

    kit_confirm(ctx, import_id)  # another reviewer of the county: now it is the county's roster
    assert _groups(ctx, [friend]) == {friend: "exited_low_standard"}
    assert _state(ctx)[1] == ["roster.import", "roster.confirm"]


def test_importer_and_confirmer_whose_passwords_one_admin_set_are_warned_not_refused(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """An admin who opened (or reset) both reviewers' accounts knew a password of each: not a refusal (an admin opens
    most accounts of a county, and each then chose their own), but the confirmer is warned and the entry says so."""
    from sqlalchemy import update

    from verifier.audit.canonical import decode_entry
    from verifier.store.tables import User

    admin = users.add("adm", "admin", counties=(COUNTY,))
    rev, rev2 = users.add("rev", "county_reviewer", counties=(COUNTY,)), users.add("rev2", "county_reviewer",
                                                                                    counties=(COUNTY,))
    users.add("rev3", "county_reviewer", counties=(COUNTY,))
    with ctx.db.begin() as session:  # kept after each chose their own password (accounts.service.set_password)
        session.execute(update(User).where(User.id.in_((rev, rev2))).values(password_set_by=admin))
    import_id = _post(client, users.headers("rev"), _csv([(new_id_number(), "脱贫户")])).json()["import_id"]
    page = client.get(f"/roster/{import_id}", headers=users.headers("rev2"))
    assert page.status_code == 200 and "密码最近一次都是由同一人（adm）设置的" in page.text, page.text
    assert "确认名册生效" in page.text  # still allowed
    assert "shared-setter" not in client.get(f"/roster/{import_id}", headers=users.headers("rev3")).text
    r = client.post(f"/roster/{import_id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200 and "shared-setter" not in r.text, r.text  # after its 303: confirmed
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "roster.confirm"))
    assert entry is not None and decode_entry(entry.entry).payload["same_password_setter"] == admin

    # two reviewers nobody set a password of, or set by different people: no warning, nothing logged
    other = _post(client, users.headers("rev3"), _csv([(new_id_number(), "边缘易致贫户")])).json()["import_id"]
    assert "shared-setter" not in client.get(f"/roster/{other}", headers=users.headers("rev")).text
    assert client.post(f"/api/roster/imports/{other}/confirm", headers=users.headers("rev")).status_code == 200
    with ctx.db.read() as session:
        last = session.scalars(select(AuditEntry).where(AuditEntry.action == "roster.confirm")
                               .order_by(AuditEntry.idx.desc())).first()
    assert last is not None and "same_password_setter" not in decode_entry(last.entry).payload


def test_attack_an_admin_resets_two_reviewers_passwords_and_imports_with_one_and_confirms_with_the_other(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """An admin who just reset both reviewers' passwords can log in as either (neither has chosen their own since):
    the confirmation is refused, nothing written; once both chose their own, it is only warned (above)."""
    from sqlalchemy import update

    from verifier.store.tables import User

    admin = users.add("adm", "admin", counties=(COUNTY,))
    rev, rev2 = users.add("rev", "county_reviewer", counties=(COUNTY,)), users.add("rev2", "county_reviewer",
                                                                                    counties=(COUNTY,))
    friend = new_id_number()
    import_id = _post(client, users.headers("rev"), _csv([(friend, "脱贫户")])).json()["import_id"]
    with ctx.db.begin() as session:  # as accounts.service.set_password by the admin leaves them
        session.execute(update(User).where(User.id.in_((rev, rev2))).values(password_set_by=admin))
    before = _state(ctx)
    for who, fresh in (((rev, rev2), True), ((rev,), True), ((rev2,), True)):
        with ctx.db.begin() as session:
            session.execute(update(User).where(User.id.in_((rev, rev2))).values(password_change_required=False))
            session.execute(update(User).where(User.id.in_(who)).values(password_change_required=fresh))
        with pytest.raises(Forbidden, match="还没有改成自己的密码"):
            roster.confirm_import(ctx.db, import_id, principal=principal_of_id(ctx, rev2), clock=ctx.clock)
        assert _state(ctx) == before and _groups(ctx, [friend]) is None
    with ctx.db.begin() as session:  # both chose their own since: warned, not refused
        session.execute(update(User).where(User.id.in_((rev, rev2))).values(password_change_required=False))
    roster.confirm_import(ctx.db, import_id, principal=principal_of_id(ctx, rev2), clock=ctx.clock)
    assert _groups(ctx, [friend]) == {friend: "exited_low_standard"}
