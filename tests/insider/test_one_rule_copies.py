"""Rules read once, not copied:

- whether a county reviewer may confirm a roster import through an account linked to the importer's by a password is
  `roster.service.password_links` (the rule registers and the other second-person steps read); `confirms_refused`
  only says which way they are linked (LINKED_ACCOUNT: one set the other's password; FRESH_PASSWORD: one person set
  both and one of them still has it);
- whether a village review rests on a meeting with its signed minutes is `notices.posting.signed_minutes`, for the
  notice's basis (`review_basis`) as for the reviews left bare (`bare_reviews_of`)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from types import SimpleNamespace

from factories import COUNTY
from sqlalchemy import select

from verifier.accounts.auth import principal_of
from verifier.notices import posting
from verifier.notices.models import VillageMeeting
from verifier.roster import service as roster
from verifier.store.tables import User

SRC = Path(__file__).resolve().parents[2] / "src" / "verifier"


def test_a_roster_import_is_refused_through_an_account_exactly_when_password_links_says_linked(  # type: ignore[no-untyped-def]
        ctx, users) -> None:
    me = users.add("me", "county_reviewer", counties=(COUNTY,))
    importer = users.add("importer", "county_reviewer", counties=(COUNTY,))
    admin = users.add("admin1", "admin")
    row = SimpleNamespace(id="import-1", imported_by=importer)
    seen = set()
    for mine, theirs, my_fresh, their_fresh in itertools.product(
            (None, importer, admin), (None, me, admin), (False, True), (False, True)):
        with ctx.db.begin() as session:
            a, b = session.get(User, me), session.get(User, importer)
            assert a is not None and b is not None
            a.password_set_by, a.password_change_required = mine, my_fresh
            b.password_set_by, b.password_change_required = theirs, their_fresh
        with ctx.db.read() as session:
            principal = principal_of(session.scalars(select(User).where(User.id == me)).one())
            linked = importer in roster.password_links(session, me, {importer})
            why = roster.confirms_refused(session, [row], principal)[row.id]  # type: ignore[list-item]
        assert (why is not None) == linked, (mine, theirs, my_fresh, their_fresh, why)
        if linked:
            direct = mine == importer or theirs == me
            fresh = "和".join(w for w, still in (("导入人", their_fresh), ("您", my_fresh)) if still)
            assert why == (roster.LINKED_ACCOUNT if direct else roster.FRESH_PASSWORD.format(setter="admin1",
                                                                                            who=fresh)), why
            seen.add(why == roster.LINKED_ACCOUNT)
    assert seen == {True, False}


def test_a_review_rests_on_signed_minutes_by_one_test() -> None:
    assert posting.signed_minutes(None) is None
    assert posting.signed_minutes(VillageMeeting(minutes_scan_sha256=None)) is None
    assert posting.signed_minutes(VillageMeeting(minutes_scan_sha256="")) is None
    held = VillageMeeting(minutes_scan_sha256="a" * 64)
    assert posting.signed_minutes(held) is held
    text = (SRC / "notices" / "posting.py").read_text(encoding="utf-8")
    assert len(re.findall(r"minutes_scan_sha256", text)) == 1, "the signed-minutes test is written once"
    for name in ("review_basis", "bare_reviews_of"):
        body = text[text.index(f"def {name}("):]
        body = body[:body.index("\ndef ", 1)]
        assert "signed_minutes(" in body, name


def test_the_roster_rule_has_no_copy_of_the_password_link_test() -> None:
    text = (SRC / "roster" / "service.py").read_text(encoding="utf-8")
    body = text[text.index("def confirms_refused("):]
    body = body[:body.index("\ndef ", 1)]
    assert "password_links(" in body
