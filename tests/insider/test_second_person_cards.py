"""The home page's 待第二人确认 cards of the roster, the registers and the notice wall count what the user may decide,
by the rule the step itself refuses by (`roster.service.confirms_refused`, `registers.confirmation.confirms_refused`,
`notices.posting.confirms_refused`): never one's own import or notice, nor one through an account linked to its
first person's by a password. Each card's link lists exactly those; empty, it says how many wait for someone else
instead of saying that nothing waits."""

from __future__ import annotations

import io
import re
from typing import Any

import roster_kit
from factories import COUNTY, make_case, new_id_number
from insider_kit import reviewed_and_posted
from openpyxl import load_workbook

from verifier.registers.service import import_register
from verifier.roster.service import import_roster
from verifier.store.tables import User


def _set_password_of(ctx: Any, users: Any, account: str, by: str) -> None:
    with ctx.db.begin() as session:
        session.get(User, users.ids[account]).password_set_by = users.ids[by]


def _card(client: Any, users: Any, who: str, title: str) -> tuple[str, int]:
    """(link, count) of the card `title` on `who`'s home page."""
    home = client.get("/", headers=users.headers(who))
    assert home.status_code == 200, home.text
    found = re.search(r'<a class="card" href="([^"]+)">\s*<div class="count">(\d+)</div>\s*<div class="title">'
                      + re.escape(title) + "<", home.text)
    assert found is not None, (who, title)
    return found.group(1).replace("&amp;", "&"), int(found.group(2))


def _listed(client: Any, users: Any, who: str, href: str) -> str:
    r = client.get(href, headers=users.headers(who))
    assert r.status_code == 200, r.text
    return str(r.text)


def _reviewers(ctx: Any, users: Any) -> None:
    """`importer`, `pal` (whose password the importer set) and `other`, county reviewers of the county."""
    for name in ("importer", "pal", "other"):
        users.add(name, "county_reviewer", counties=(COUNTY,))
    _set_password_of(ctx, users, "pal", by="importer")


def _principal(ctx: Any, users: Any, name: str) -> Any:
    from verifier.accounts.auth import principal_of

    with ctx.db.read() as session:
        return principal_of(session.get(User, users.ids[name]))


def test_the_roster_card_counts_neither_ones_own_import_nor_a_linked_accounts(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _reviewers(ctx, users)
    done = import_roster(ctx.db, vault=ctx.vault, data=roster_kit.roster_csv([(new_id_number(), "脱贫户")]),
                         filename="名册.csv", county_code=COUNTY, principal=_principal(ctx, users, "importer"),
                         clock=ctx.clock, limits=ctx.settings.imports)
    seen = {who: _card(client, users, who, "名册待第二人确认") for who in ("importer", "pal", "other")}
    assert seen == {who: ("/roster?to_decide=1", n) for who, n in (("importer", 0), ("pal", 0), ("other", 1))}
    listed = _listed(client, users, "other", "/roster?to_decide=1")
    row = f'href="/roster/{done.import_id}">核对名册变化'  # its row (the upload form links it apart)
    assert "共 1 条" in listed and row in listed
    for who in ("importer", "pal"):  # none for them, and the list says the one waiting is another's to confirm
        listed = _listed(client, users, who, "/roster?to_decide=1")
        assert 'id="roster-none"' in listed and row not in listed
        assert "没有等待您确认的名册。另有 1 份待确认的名册须由本县其他县级复核员确认" in listed
    # the confirmation refuses the very ones the card leaves out
    pal = client.post(f"/api/roster/imports/{done.import_id}/confirm", headers=users.headers("pal"))
    assert pal.status_code == 403, pal.text


def test_the_register_card_counts_neither_ones_own_import_nor_a_linked_accounts(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _reviewers(ctx, users)
    done = import_register(ctx.db, vault=ctx.vault,
                           data=f"身份证号,号牌号码,车辆价值\n{new_id_number()},皖B12345,30000.00\n".encode(),
                           filename="车辆.csv", kind="vehicle", county_code=COUNTY,
                           principal=_principal(ctx, users, "importer"), clock=ctx.clock,
                           limits=ctx.settings.imports)
    seen = {who: _card(client, users, who, "比对名单待第二人确认") for who in ("importer", "pal", "other")}
    assert seen == {who: ("/registers?to_decide=1", n) for who, n in (("importer", 0), ("pal", 0), ("other", 1))}
    listed = _listed(client, users, "other", "/registers?to_decide=1")
    assert "共 1 条" in listed and f'href="/registers/{done.import_id}"' in listed
    for who in ("importer", "pal"):
        listed = _listed(client, users, who, "/registers?to_decide=1")
        assert 'id="register-none"' in listed and f'href="/registers/{done.import_id}"' not in listed
        assert "没有等待您确认的名单。另有 1 份待确认的名单须由本县其他县级复核员确认" in listed
    # all pending, whoever may confirm them, as before
    assert f'href="/registers/{done.import_id}"' in _listed(client, users, "pal", "/registers?status=pending")


def test_the_wall_card_counts_neither_ones_own_notice_nor_a_linked_accounts(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    users.add("reviewer_pal", "county_reviewer", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    _set_password_of(ctx, users, "reviewer_pal", by="clerk")
    case_id = make_case(ctx, village="东村")
    notice_id = reviewed_and_posted(client, users.headers("clerk"), case_id, ctx.clock.today().isoformat())["id"]
    title = "公示张贴待第二人确认"
    seen = {who: _card(client, users, who, title) for who in ("clerk", "clerk2", "reviewer_pal", "reviewer")}
    # its poster, an account the poster knows the password of, and (its review recorded on its own, not at a
    # meeting) another clerk: none of them confirms it; the county reviewer does
    assert seen == {who: ("/notices?posting=to_decide", n) for who, n in
                    (("clerk", 0), ("clerk2", 0), ("reviewer_pal", 0), ("reviewer", 1))}
    url = f'href="/notices/{notice_id}"'
    listed = _listed(client, users, "reviewer", "/notices?posting=to_decide")
    assert "共 1 条" in listed and url in listed
    for who in ("clerk", "clerk2", "reviewer_pal"):
        listed = _listed(client, users, who, "/notices?posting=to_decide")
        assert 'id="notices-none"' in listed and url not in listed
        assert "没有张贴等待您确认的公示。另有 1 份公示的张贴等待其他人员确认" in listed
        assert url in _listed(client, users, who, "/notices?posting=unconfirmed")  # all waiting, as before
    # the list's workbook holds what it lists (the page's link, and the API's)
    for who, holds in (("reviewer", True), ("reviewer_pal", False)):
        for path in ("/notices/export.xlsx", "/api/notices/export.xlsx"):
            got = client.get(f"{path}?posting=to_decide", headers=users.headers(who))
            assert got.status_code == 200, got.text
            sheet = load_workbook(io.BytesIO(got.content))["公示"]
            assert (notice_id in {c.value for row in sheet.iter_rows() for c in row}) is holds, (who, path)
    # the page says why instead of the button, in the words the confirmation refuses with
    page = _listed(client, users, "reviewer_pal", f"/notices/{notice_id}")
    assert 'id="not-you"' in page and "密码关联" in page
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers("reviewer_pal"),
                    json={"note": "查阅了纸质会议记录"})
    assert r.status_code == 403 and r.json()["detail"] in page, r.text
