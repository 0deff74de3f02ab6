"""What a merge or a move did to the members' relations to their head is kept with the change (`household_change`:
`relations`, `head_member_id`) and shown in the household file (the page, the .docx): "李秀英：户主→配偶" and who
heads them after it, by name, never an ID number. Changes recorded before migration 0050 keep an empty list."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, timezone
from typing import Any

import household_kit
from factories import make_case, staff
from payment_helpers import tx
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from migration_cache import at_revision
from verifier.households import service as households
from verifier.households.file import household_file
from verifier.households.models import HouseholdChange
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade
from verifier.store.tables import Case, Member
from verifier.web import household_file as in_words
from web.pagekit import Pages

FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")


def _household(ctx: Any, case_id: str) -> str:
    with ctx.db.read() as session:
        return session.get(Case, case_id).household_id


def _members(ctx: Any, household_id: str) -> dict[str, Member]:
    """The household's members by relation (one each in a household of make_case)."""
    with ctx.db.read() as session:
        found = {m.relation: m for m in session.scalars(select(Member).where(Member.household_id == household_id))}
        session.expunge_all()
    return found


def _change(ctx: Any, change_id: str) -> tuple[list[dict[str, str]], str | None]:
    with ctx.db.read() as session:
        row = session.get(HouseholdChange, change_id)
        return list(row.relations), row.head_member_id


def _changes_cells(ctx: Any, household_id: str, who: Any) -> list[dict[str, str]]:
    """The household file's 家庭合并和成员迁移 rows as the page and the documents show them, by column title."""
    with ctx.db.read() as session:
        file = household_file(session, household_id, who, ctx.vault)
    section = next(s for s in file.sections if s.key == "changes")
    return [{c.title: cell.text for c, cell in zip(section.columns, row)}
            for row in in_words.cells(section, file.names)]


def test_a_merge_keeps_the_merged_members_new_relations_and_their_head_and_the_file_shows_them(ctx: Any) -> None:
    supervisor = staff(ctx).supervisor
    kept = _household(ctx, make_case(ctx, stage="received", members=1, head_name="王建国"))
    merged = _household(ctx, make_case(ctx, stage="checked", members=3, head_name="李秀英"))
    husband, wife = _members(ctx, kept)["head"], _members(ctx, merged)
    result = tx(ctx, lambda s: household_kit.merge_households(s, kept, merged, reason="夫妻实为一户", principal=supervisor,
                                                           clock=ctx.clock, head_relation="spouse"))

    relations, head = _change(ctx, result.change_id)
    assert relations == [{"member_id": wife["head"].id, "before": "head", "after": "spouse"},
                         {"member_id": wife["spouse"].id, "before": "spouse", "after": "other"}]
    assert head == husband.id  # the child stays a child: the couple's
    expected = f"李秀英：户主→配偶；{wife['spouse'].name}：配偶→其他"
    for household in (kept, merged):  # both households' files tell it
        [row] = _changes_cells(ctx, household, supervisor)
        assert (row["与户主关系变化"], row["变动后户主"]) == (expected, "王建国")
        # who proposed it (办理人) and who confirmed it (确认人), both named
        assert row["办理人"] and row["确认人"] and row["确认人"] != row["办理人"], row
    with ctx.db.read() as session:
        [change] = households.household_changes(session, kept)
    assert [r["name"] for r in change.relations] == ["李秀英", wife["spouse"].name] and change.head_name == "王建国"


def test_moves_keep_the_relations_they_changed_and_the_new_head(ctx: Any) -> None:
    supervisor = staff(ctx).supervisor

    def move(hh: str, member: str, **kw: Any) -> households.MoveResult:
        kw.setdefault("to_household_id", None)
        kw.setdefault("new_household", False)
        return tx(ctx, lambda s: household_kit.move_member(s, hh, member, reason="分户", principal=supervisor,
                                                        clock=ctx.clock, **kw))

    # The father sets up his own household and the son heads the one he leaves: the mother is the son's parent.
    hh = _household(ctx, make_case(ctx, stage="checked", members=3))
    family = _members(ctx, hh)
    out = move(hh, family["head"].id, new_household=True, new_head_member_id=family["child"].id)
    assert _change(ctx, out.change_id) == ([{"member_id": family["child"].id, "before": "child", "after": "head"},
                                            {"member_id": family["spouse"].id, "before": "spouse", "after": "parent"}],
                                           family["head"].id)
    [row] = _changes_cells(ctx, hh, supervisor)
    assert row["与户主关系变化"] == f"{family['child'].name}：子女→户主；{family['spouse'].name}：配偶→父母"
    assert row["变动后户主"] == family["child"].name and row["成员"] == family["head"].name
    # each household's file names its own head: the father heads the household he set up, not his son
    [row] = _changes_cells(ctx, out.household_id, supervisor)
    assert row["变动后户主"] == family["head"].name and row["成员"] == family["head"].name

    # A daughter marries into another household: her relation there, under that household's head.
    hh = _household(ctx, make_case(ctx, stage="checked", members=3))
    groom_hh = _household(ctx, make_case(ctx, stage="checked", members=2))
    family, groom = _members(ctx, hh), _members(ctx, groom_hh)["head"]
    out = move(hh, family["child"].id, to_household_id=groom_hh, relation="spouse")
    assert _change(ctx, out.change_id) == ([{"member_id": family["child"].id, "before": "child", "after": "spouse"}],
                                           groom.id)
    for household in (hh, groom_hh):
        [row] = _changes_cells(ctx, household, supervisor)
        assert (row["与户主关系变化"], row["变动后户主"]) == (f"{family['child'].name}：子女→配偶", groom.name)

    # A head moves into another household (as its head's parent): there, that household's head; in the one he left,
    # the son who heads it now.
    home = _household(ctx, make_case(ctx, stage="checked", members=3))
    elder = _members(ctx, home)
    out = move(home, elder["head"].id, to_household_id=groom_hh, relation="parent",
               new_head_member_id=elder["child"].id)
    assert _change(ctx, out.change_id)[1] == groom.id
    for household, head in ((home, elder["child"]), (groom_hh, groom)):
        row = _changes_cells(ctx, household, supervisor)[-1]
        assert (row["成员"], row["变动后户主"]) == (elder["head"].name, head.name)
    with ctx.db.begin() as session:  # as such a move was recorded before: the head of those who stay
        session.get(HouseholdChange, out.change_id).head_member_id = elder["child"].id
    assert _changes_cells(ctx, home, supervisor)[-1]["变动后户主"] == elder["child"].name
    assert _changes_cells(ctx, groom_hh, supervisor)[-1]["变动后户主"] == ""  # not known, rather than wrong

    # The mother leaves to a household of her own: she heads it; nobody else's relation changed.
    out = move(hh, family["spouse"].id, new_household=True)
    assert _change(ctx, out.change_id) == ([{"member_id": family["spouse"].id, "before": "spouse", "after": "head"}],
                                           family["spouse"].id)


def test_the_page_and_the_printed_file_show_the_relation_changes_by_name_without_id_numbers(ctx: Any, client: Any,
                                                                                             users: Any) -> None:
    from docx import Document

    supervisor = staff(ctx).supervisor
    hh = _household(ctx, make_case(ctx, stage="checked", members=3, head_name="张大山"))
    family = _members(ctx, hh)
    tx(ctx, lambda s: household_kit.move_member(s, hh, family["head"].id, to_household_id=None, new_household=True,
                                             new_head_member_id=family["child"].id, reason="父亲另立一户",
                                             principal=supervisor, clock=ctx.clock))
    line = f"{family['child'].name}：子女→户主；{family['spouse'].name}：配偶→父母"
    pages = Pages(client, users).as_("rel-clerk", "town_clerk")
    shown = pages.get(f"/households/{hh}")
    assert shown.status_code == 200 and line in shown.text and "变动后户主" in shown.text
    word = pages.get(f"/households/{hh}/file.docx")
    cells = [c.text for t in Document(io.BytesIO(word.content)).tables for row in t.rows for c in row.cells]
    assert line in cells and family["child"].name in cells and not FULL_ID.search(" ".join(cells))
    with ctx.db.read() as session:
        file = household_file(session, hh, supervisor, ctx.vault, masked=True)
    doc = Document(io.BytesIO(in_words.docx(file, printed_by="主管", today=date(2020, 6, 1))))
    assert line in [c.text for t in doc.tables for row in t.rows for c in row.cells]


NOW = "2020-06-01 02:00:00"
HOUSEHOLD = text("INSERT INTO household (id, county_code, town, village, household_group, head_name, created_at) "
                 "VALUES (:id, '340223', 't', 'v', 'low_income', :head, :now)")
MEMBER = text("INSERT INTO member (id, household_id, name, id_number_enc, id_number_bidx, relation) "
              "VALUES (:id, :hh, :name, :enc, :bidx, :relation)")
CHANGE = text("INSERT INTO household_change (id, kind, county_code, from_household_id, to_household_id, member_id, "
              "members, new_household, merged_cases, moved_cases, reason, changed_by, changed_at) VALUES "
              "('hhc_1', 'move', '340223', 'hh_1', 'hh_2', 'mem_2', '[\"mem_2\"]', true, '[]', '[]', '分户', 'u', :now)")


def test_changes_recorded_before_the_migration_get_an_empty_list_and_no_head(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0049")
        with db.engine.begin() as conn:
            for hh, head in (("hh_1", "赵一"), ("hh_2", "赵二")):
                conn.execute(HOUSEHOLD, {"id": hh, "head": head, "now": NOW})
            for i, (hh, name, relation) in enumerate((("hh_1", "赵一", "head"), ("hh_2", "赵二", "head")), 1):
                conn.execute(MEMBER, {"id": f"mem_{i}", "hh": hh, "name": name, "enc": b"\x00" * 40,
                                      "bidx": f"b{i}", "relation": relation})
            conn.execute(CHANGE, {"now": NOW})
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, relations, head_member_id FROM household_change")).all()
        assert [(r[0], r[1] if isinstance(r[1], list) else json.loads(r[1]), r[2]) for r in rows] == [
            ("hhc_1", [], None)]
        with Session(db.engine) as session:
            [change] = households.household_changes(session, "hh_1")
            assert (change.relations, change.head_member_id, change.head_name) == ([], None, None)
            assert change.member_name == "赵二"
            session.add(HouseholdChange(id="hhc_2", kind="merge", county_code="340223", from_household_id="hh_2",
                                        to_household_id="hh_1", member_id=None, members=["mem_2"],
                                        new_household=False, merged_cases=[], moved_cases=[],
                                        relations=[{"member_id": "mem_2", "before": "head", "after": "spouse"}],
                                        head_member_id="mem_1", reason="合并", changed_by="u",
                                        changed_at=datetime(2020, 6, 2, 2, tzinfo=timezone.utc)))
            session.commit()
            later = households.household_changes(session, "hh_1")[-1]
            assert later.relations == [{"member_id": "mem_2", "before": "head", "after": "spouse", "name": "赵二"}]
            assert later.head_name == "赵一"
    finally:
        db.dispose()
