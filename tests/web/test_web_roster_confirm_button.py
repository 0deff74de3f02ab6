"""The roster's confirmation page shows the button 确认名册生效 only to a county reviewer whose confirmation the rule
would accept (roster/service.may_confirm, the rule `confirm` itself applies): the importer, an account linked to the
importer's by a password one set for the other, and a reviewer sharing a password setter with the importer while
either still has that password read why instead, and the confirmation they might still send is refused in the same
words."""

from __future__ import annotations

from factories import COUNTY, new_id_number
from roster_kit import roster_csv
from sqlalchemy import update

from verifier.accounts.auth import principal_of
from verifier.accounts.service import add_user
from verifier.roster import service as roster
from verifier.store.tables import User

BUTTON = "确认名册生效"
REFUSED = 'id="confirm-refused"'


def _import(ctx, principal) -> str:  # type: ignore[no-untyped-def]
    data = roster_csv([(new_id_number(), "脱贫户")])
    return roster.import_roster(ctx.db, vault=ctx.vault, data=data, filename="名册.csv", county_code=COUNTY,
                                principal=principal, clock=ctx.clock, limits=ctx.settings.imports).import_id


def _principal(ctx, user_id: str):  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return principal_of(session.get(User, user_id))


def _form(import_id: str) -> str:
    return f'action="/roster/{import_id}/confirm"'


def test_the_importer_and_a_linked_account_read_why_instead_of_the_button(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    rev = users.add("rev", "county_reviewer", "admin", counties=(COUNTY,))
    users.add("rev3", "county_reviewer", counties=(COUNTY,))
    with ctx.db.begin() as session:  # an account she opened with a password of her choosing imports
        puppet = principal_of(add_user(session, username="puppet", password="given-by-rev", roles=["county_reviewer"],
                                       counties=[COUNTY], actor=rev, change_required=True, clock=ctx.clock))
    import_id = _import(ctx, puppet)
    page = client.get(f"/roster/{import_id}", headers=users.headers("rev"))
    assert page.status_code == 200 and REFUSED in page.text, page.text
    assert "您不能确认这份名册" in page.text and "有关联" in page.text
    assert BUTTON not in page.text and _form(import_id) not in page.text
    assert "退回这份名册" in page.text  # she may still reject it
    sent = client.post(f"/roster/{import_id}/confirm", headers=users.headers("rev"))
    assert sent.status_code == 403 and "有关联" in sent.text

    other = client.get(f"/roster/{import_id}", headers=users.headers("rev3"))  # nobody's puppet: the button
    assert other.status_code == 200 and BUTTON in other.text and REFUSED not in other.text

    with ctx.db.begin() as session:
        roster.reject(session, import_id, principal=_principal(ctx, rev), reason="换一份", clock=ctx.clock)
    own = _import(ctx, _principal(ctx, rev))  # her own import: the four-eyes note, no button (as before)
    page = client.get(f"/roster/{own}", headers=users.headers("rev"))
    assert page.status_code == 200 and "这份名册是您导入的" in page.text and BUTTON not in page.text
    assert _form(own) not in page.text


def test_a_shared_password_setter_with_a_password_not_yet_changed_shows_why_not_the_button(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    admin = users.add("adm", "admin", counties=(COUNTY,))
    rev, rev2 = users.add("rev", "county_reviewer", counties=(COUNTY,)), users.add("rev2", "county_reviewer",
                                                                                    counties=(COUNTY,))
    import_id = _import(ctx, _principal(ctx, rev))
    with ctx.db.begin() as session:  # the admin reset both; the importer has not chosen her own since
        session.execute(update(User).where(User.id.in_((rev, rev2))).values(password_set_by=admin))
        session.execute(update(User).where(User.id == rev).values(password_change_required=True))
    headers = users.headers("rev2")
    page = client.get(f"/roster/{import_id}", headers=headers)
    assert page.status_code == 200 and REFUSED in page.text, page.text
    assert "导入人至今还没有改成自己的密码" in page.text and "（adm）" in page.text
    assert BUTTON not in page.text and _form(import_id) not in page.text and "shared-setter" not in page.text
    sent = client.post(f"/roster/{import_id}/confirm", headers=headers)
    assert sent.status_code == 403 and "导入人至今还没有改成自己的密码" in sent.text
    with ctx.db.read() as session:
        assert roster.load(session, import_id, _principal(ctx, rev2)).status == "pending"

    with ctx.db.begin() as session:  # she chose her own since: warned, and the button is back
        session.execute(update(User).where(User.id == rev).values(password_change_required=False))
    page = client.get(f"/roster/{import_id}", headers=headers)
    assert BUTTON in page.text and "shared-setter" in page.text and REFUSED not in page.text
