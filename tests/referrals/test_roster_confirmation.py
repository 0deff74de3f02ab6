"""A roster import is pending until a second county reviewer confirms it: what it changes (counted by blind index,
no person named), a referral file read against the roster in force, rejecting and withdrawing, confirming twice,
one pending import a county, and never an import older than the county's roster. The insider attacks on it:
tests/insider/test_roster_alone.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from factories import COUNTY, new_id_number
from roster_kit import (county_being_set_up, group_of, import_confirmed, post_roster, referral_csv_without_groups,
                        reviewer, roster_csv, second_reviewer)
from sqlalchemy import func, select, update

from verifier.audit import log as audit
from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.domain.errors import InvalidState
from verifier.roster import service as roster
from verifier.roster.comparison import figures, review
from verifier.roster.models import MIGRATED, RosterImport


def _actions(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("roster.%"))
                                    .order_by(AuditEntry.idx)))


def test_the_change_is_counted_by_category_on_a_hand_built_example(ctx) -> None:  # type: ignore[no-untyped-def]
    stay, moved_up, moved_down, same_group, gone, gone_edge, new, new_edge = (new_id_number() for _ in range(8))
    first = import_confirmed(ctx, roster_csv([
        (stay, "脱贫户"), (moved_up, "边缘易致贫户"), (moved_down, "脱贫户"), (same_group, "脱贫户"),
        (gone, "脱贫不稳定户"), (gone_edge, "突发严重困难户")]))
    rev = reviewer(ctx, "rev-a")
    second = roster.import_roster(ctx.db, vault=ctx.vault, filename="12月.csv", county_code=COUNTY, principal=rev,
                                  clock=ctx.clock, limits=ctx.settings.imports, data=roster_csv([
                                      (stay, "脱贫户"), (moved_up, "脱贫户"), (moved_down, "突发严重困难户"),
                                      (same_group, "脱贫不稳定户"), (new, "脱贫户"), (new_edge, "边缘易致贫户")]))
    with ctx.db.read() as session:
        f = figures(session, second.import_id, first.import_id)
        seen = review(session, second.import_id, rev)
    assert f.before == {"exited": 3, "edge": 1, "exited_unstable": 1, "sudden_hardship": 1}
    assert f.after == {"exited": 3, "exited_unstable": 1, "sudden_hardship": 1, "edge": 1}
    assert f.added == {"exited": 1, "edge": 1} and f.removed == {"exited_unstable": 1, "sudden_hardship": 1}
    assert f.changed == {("edge", "exited"): 1, ("exited", "sudden_hardship"): 1, ("exited", "exited_unstable"): 1}
    assert (f.added_total, f.removed_total, f.changed_total) == (2, 2, 3)
    # into 非高标准脱贫户: moved_up, new; into 非贫低收入户: moved_down, gone (off the roster); the rest keep theirs
    assert f.group_moves() == {"exited_low_standard": 2, "low_income": 2}
    assert seen.base is not None and seen.base.id == first.import_id and seen.may_decide and seen.own
    with ctx.db.read() as session:  # a county's first roster: everyone is added
        alone = figures(session, first.import_id, None)
    assert alone.added == alone.after and alone.removed == {} and alone.changed == {}


def test_a_pending_roster_changes_no_referral_and_a_confirmed_one_does(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    early, late = new_id_number(), new_id_number()
    r = post_roster(client, users.headers("rev"), roster_csv([(early, "脱贫户"), (late, "脱贫户")]))
    import_id = r.json()["import_id"]
    r = client.post("/api/referrals/imports", headers=users.headers("sup"),
                    files={"file": ("医保局.csv", referral_csv_without_groups([early]), "text/csv")},
                    data={"channel": "medical_insurance", "county_code": COUNTY})
    assert r.status_code == 201, r.text
    assert group_of(ctx, ctx.vault, early) == "low_income"  # the pending roster is not the county's

    change = client.get(f"/api/roster/imports/{import_id}/change", headers=users.headers("rev2"))
    assert change.status_code == 200 and change.json()["added"] == 2 and change.json()["compared_with"] is None
    page = client.get(f"/roster/{import_id}", headers=users.headers("rev2"))
    assert page.status_code == 200 and "确认名册生效" in page.text and "本县此前没有名册" in page.text
    assert early not in page.text and late not in page.text  # counts only
    r = client.post(f"/api/roster/imports/{import_id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert r.json()["confirmed_by"] == users.ids["rev2"] and r.json()["imported_by"] == users.ids["rev"]
    again = client.post(f"/api/roster/imports/{import_id}/confirm", headers=users.headers("rev2"))  # a double click
    assert again.status_code == 200 and again.json()["confirmed_at"] == r.json()["confirmed_at"]
    assert _actions(ctx) == ["roster.import", "roster.confirm"]

    r = client.post("/api/referrals/imports", headers=users.headers("sup"),
                    files={"file": ("民政局.csv", referral_csv_without_groups([late]), "text/csv")},
                    data={"channel": "civil_affairs", "county_code": COUNTY})
    assert r.status_code == 201, r.text
    assert group_of(ctx, ctx.vault, late) == "exited_low_standard"
    listed = client.get("/api/roster/imports", headers=users.headers("sup")).json()
    assert [(i["status"], i["confirmed_by"]) for i in listed] == [("confirmed", users.ids["rev2"])]


def test_a_rejected_roster_leaves_the_old_one_in_force_and_one_is_pending_at_a_time(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    person = new_id_number()
    old = import_confirmed(ctx, roster_csv([(person, "脱贫户")]))
    wrong = post_roster(client, users.headers("rev"), roster_csv([(person, "边缘易致贫户")])).json()["import_id"]
    busy = post_roster(client, users.headers("rev2"), roster_csv([(new_id_number(), "脱贫户")]))
    assert busy.status_code == 409 and wrong in busy.json()["detail"] and "等待确认" in busy.json()["detail"]

    r = client.post(f"/api/roster/imports/{wrong}/reject", headers=users.headers("rev2"), json={"reason": ""})
    assert r.status_code in (400, 422)
    page = client.post(f"/roster/{wrong}/reject", headers=users.headers("rev2"), data={"reason": " "})
    assert page.status_code == 422 and "请说明退回的原因" in page.text
    r = client.post(f"/api/roster/imports/{wrong}/reject", headers=users.headers("rev2"),
                    json={"reason": "边缘易致贫户的名单不是本月的"})
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["rejected_by"] == users.ids["rev2"]
    assert client.post(f"/api/roster/imports/{wrong}/confirm", headers=users.headers("rev2")).status_code == 409
    with ctx.db.read() as session:
        assert roster.current_import(session, COUNTY).id == old.import_id  # type: ignore[union-attr]
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "roster.reject"))
    assert entry is not None and "边缘" not in entry.entry.decode()  # the reason is logged by its digest

    # The importer withdraws her own; then the next import may wait for confirmation.
    mine = post_roster(client, users.headers("rev"), roster_csv([(person, "突发严重困难户")])).json()["import_id"]
    r = client.post(f"/roster/{mine}/reject", headers=users.headers("rev"), data={"reason": "文件选错了"})
    assert r.status_code == 200 and "名册已退回，不会生效" in r.text  # after its 303
    with ctx.db.read() as session:
        row = session.get(RosterImport, mine)
        assert row is not None and row.status == "rejected" and row.rejected_by == users.ids["rev"]
    # A rejected file sent again is a new import, pending like any other (a file in force sent again: nothing).
    again = post_roster(client, users.headers("rev"), roster_csv([(person, "突发严重困难户")]))
    assert again.status_code == 201 and again.json()["repeated"] is False and again.json()["import_id"] != mine
    assert post_roster(client, users.headers("rev2"), roster_csv([(person, "脱贫户")])).json()["repeated"] is True
    assert _actions(ctx) == ["roster.import", "roster.confirm", "roster.import", "roster.reject", "roster.import",
                             "roster.reject", "roster.import"]
    assert "导入人撤回" in client.get(f"/roster/{mine}", headers=users.headers("rev2")).text


def test_a_rejected_file_sent_again_shows_its_earlier_rejection_before_it_is_confirmed(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    users.add("rev3", "county_reviewer", counties=(COUNTY,))
    data = roster_csv([(new_id_number(), "脱贫户"), (new_id_number(), "边缘易致贫户")])
    first = post_roster(client, users.headers("rev"), data).json()["import_id"]
    reason = "第 2 行的人已迁出本县，名单不是本月的"
    assert client.post(f"/api/roster/imports/{first}/reject", headers=users.headers("rev2"),
                       json={"reason": reason}).status_code == 200
    fresh = post_roster(client, users.headers("rev3"), roster_csv([(new_id_number(), "脱贫户")])).json()["import_id"]
    assert "earlier-rejections" not in client.get(f"/roster/{fresh}", headers=users.headers("rev2")).text
    assert client.get(f"/api/roster/imports/{fresh}/change",
                      headers=users.headers("rev2")).json()["earlier_rejections"] == []
    assert client.post(f"/api/roster/imports/{fresh}/reject", headers=users.headers("rev3"),
                       json={"reason": "撤回"}).status_code == 200

    again = post_roster(client, users.headers("rev"), data).json()["import_id"]  # the same file, sent again
    assert again != first
    page = client.get(f"/roster/{again}", headers=users.headers("rev3"))
    assert page.status_code == 200 and "同一文件此前被退回过 1 次" in page.text, page.text
    assert "rev2" in page.text and reason in page.text and first in page.text
    change = client.get(f"/api/roster/imports/{again}/change", headers=users.headers("rev3")).json()
    assert [(e["import_id"], e["rejected_by"], e["reason"]) for e in change["earlier_rejections"]] == [
        (first, users.ids["rev2"], reason)]
    assert change["earlier_rejections"][0]["rejected_at"]
    r = client.post(f"/api/roster/imports/{again}/confirm", headers=users.headers("rev3"))
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "roster.confirm"))
    assert entry is not None and reason not in entry.entry.decode()  # the reason by its digest, as when rejected
    logged = decode_entry(entry.entry).payload["earlier_rejections"]
    assert [(e["import_id"], e["rejected_by"], e["reason"]) for e in logged] == [
        (first, users.ids["rev2"], audit.text_digest(reason))] and logged[0]["rejected_at"]
    # the rejected import itself: no other import of its file was rejected
    assert "earlier-rejections" not in client.get(f"/roster/{first}", headers=users.headers("rev3")).text



def test_a_rejected_roster_sent_again_with_one_byte_changed_still_shows_the_countys_rejections(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The file's SHA-256 changes with one byte: the confirmer also sees, apart and marked so, the county's imports
    of any other file rejected since its roster was confirmed (page, `change`, the `roster.confirm` entry)."""
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    rows = [(new_id_number(), "脱贫户"), (new_id_number(), "边缘易致贫户")]
    old = import_confirmed(ctx, roster_csv([(new_id_number(), "脱贫户")]))  # the county's roster
    ctx.clock.advance(minutes=1)
    first = post_roster(client, users.headers("rev"), roster_csv(rows)).json()["import_id"]
    reason = "第 2 行的人已迁出本县"
    assert client.post(f"/api/roster/imports/{first}/reject", headers=users.headers("rev2"),
                       json={"reason": reason}).status_code == 200
    ctx.clock.advance(minutes=1)
    data = roster_csv(rows) + b"\n"  # one byte more: another SHA-256, the same people
    again = post_roster(client, users.headers("rev"), data)
    assert again.status_code == 201 and again.json()["repeated"] is False, again.text
    again_id = again.json()["import_id"]
    page = client.get(f"/roster/{again_id}", headers=users.headers("rev2"))
    assert page.status_code == 200 and "earlier-rejections" not in page.text
    assert "本县现行名册确认以来还退回过 1 份其他文件的名册" in page.text and first in page.text and reason in page.text
    change = client.get(f"/api/roster/imports/{again_id}/change", headers=users.headers("rev2")).json()
    assert change["earlier_rejections"] == []
    assert [(e["import_id"], e["rejected_by"], e["reason"]) for e in change["rejections_since_roster"]] == [
        (first, users.ids["rev2"], reason)]
    assert client.post(f"/api/roster/imports/{again_id}/confirm", headers=users.headers("rev2")).status_code == 200
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "roster.confirm")
                                .order_by(AuditEntry.idx.desc())).first()
    payload = decode_entry(entry.entry).payload  # type: ignore[union-attr]
    assert "earlier_rejections" not in payload and payload["replaces"] == old.import_id
    assert [(e["import_id"], e["reason"]) for e in payload["rejections_since_roster"]] == [
        (first, audit.text_digest(reason))]
    # rejected before the roster now in force was confirmed: no longer listed for the next import
    ctx.clock.advance(minutes=1)
    later = post_roster(client, users.headers("rev"), roster_csv([(new_id_number(), "脱贫户")])).json()["import_id"]
    assert client.get(f"/api/roster/imports/{later}/change",
                      headers=users.headers("rev2")).json()["rejections_since_roster"] == []
    assert "rejections-since-roster" not in client.get(f"/roster/{later}", headers=users.headers("rev2")).text


def test_an_import_in_force_before_confirmations_reads_as_such(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    done = import_confirmed(ctx, roster_csv([(new_id_number(), "脱贫户")]))
    with ctx.db.begin() as session:  # as migration 0049 leaves an import made before it
        session.execute(update(RosterImport).where(RosterImport.id == done.import_id).values(confirmed_by=MIGRATED))
    page = client.get(f"/roster/{done.import_id}", headers=users.headers("rev"))
    assert page.status_code == 200 and "迁移前已生效" in page.text and "没有第二名县级复核员确认" in page.text
    assert "迁移前已生效" in client.get("/roster", headers=users.headers("rev")).text
    listed = client.get("/api/roster/imports", headers=users.headers("rev")).json()
    assert [(r["status"], r["confirmed_by"]) for r in listed] == [("confirmed", "migration:0049")]


def test_an_import_older_than_the_countys_roster_is_never_confirmed(ctx) -> None:  # type: ignore[no-untyped-def]
    rev = reviewer(ctx, "rev-a")
    older = roster.import_roster(ctx.db, vault=ctx.vault, data=roster_csv([(new_id_number(), "脱贫户")]),
                                 filename="a.csv", county_code=COUNTY, principal=rev, clock=ctx.clock,
                                 limits=ctx.settings.imports)
    # (as if a newer one had been confirmed meanwhile: one pending a county makes it rare, not impossible by hand)
    with ctx.db.begin() as session:
        session.execute(update(RosterImport).where(RosterImport.id == older.import_id)
                        .values(imported_at=ctx.clock.now() - timedelta(days=30)))
    with ctx.db.begin() as session:
        session.execute(update(RosterImport).where(RosterImport.id == older.import_id).values(status="rejected"))
    newer = import_confirmed(ctx, roster_csv([(new_id_number(), "边缘易致贫户")]))
    with ctx.db.begin() as session:
        session.execute(update(RosterImport).where(RosterImport.id == older.import_id).values(status="pending"))
    with pytest.raises(InvalidState, match="较早的名册"):
        roster.confirm_import(ctx.db, older.import_id, principal=second_reviewer(ctx), clock=ctx.clock)
    with ctx.db.read() as session:
        assert roster.current_import(session, COUNTY).id == newer.import_id  # type: ignore[union-attr]
        assert review(session, older.import_id, second_reviewer(ctx)).older_than_current


def test_the_command_line_imports_as_its_operator_and_never_confirms_or_rejects(ctx, client, users, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """As for role grants, the command line stands for the server's operator and never acts for an account: it
    holds no password of one. So it neither confirms nor rejects (the page and API do, behind a password login), it
    imports as `cli:<operator>` only, and the import's page and `change` answer say no reviewer vouches for it."""
    from verifier.cli import main

    county_being_set_up(ctx)
    users.add("far", "county_reviewer", counties=("340299",))  # another county's reviewer: this one is being set up
    monkeypatch.setenv("VERIFIER_HOME", str(ctx.settings.home))
    monkeypatch.setenv("VERIFIER_DATABASE_URL", ctx.settings.database_url)
    runner = CliRunner()
    path = tmp_path / "名册.csv"
    path.write_bytes(roster_csv([(new_id_number(), "脱贫户")]))
    acting = runner.invoke(main, ["roster", "import", str(path), "--county", COUNTY, "--username", "rev"])
    assert acting.exit_code == 2 and "没有选项" in acting.output, acting.output
    done = runner.invoke(main, ["roster", "import", str(path), "--county", COUNTY])
    assert done.exit_code == 0 and "由服务器命令行导入" in done.output and "“名册”页" in done.output, done.output
    with ctx.db.read() as session:
        row = session.scalar(select(RosterImport))
    assert row is not None and row.imported_by.startswith("cli:") and row.status == "pending"
    for words in (["confirm", row.id, "--username", "rev"], ["reject", row.id, "--username", "rev", "--reason", "不对"]):
        refused = runner.invoke(main, ["roster", *words])
        assert refused.exit_code == 2 and "没有命令" in refused.output, refused.output
    with ctx.db.read() as session:
        assert session.get(RosterImport, row.id).status == "pending"  # type: ignore[union-attr]

    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    page = client.get(f"/roster/{row.id}", headers=users.headers("rev"))
    assert page.status_code == 200 and "由服务器命令行导入" in page.text and "没有哪位复核员为它担保" in page.text
    change = client.get(f"/api/roster/imports/{row.id}/change", headers=users.headers("rev")).json()
    assert change["imported_at_command_line"] is True
    r = client.post(f"/api/roster/imports/{row.id}/confirm", headers=users.headers("rev"))
    assert r.status_code == 200 and r.json()["confirmed_by"] == users.ids["rev"], r.text
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "roster.confirm"))
    assert entry is not None and decode_entry(entry.entry).payload["imported_at_command_line"] is True
    # an import by a reviewer at the page or API says nothing of the kind
    second = post_roster(client, users.headers("rev2"), roster_csv([(new_id_number(), "边缘易致贫户")])).json()
    assert "由服务器命令行导入" not in client.get(f"/roster/{second['import_id']}", headers=users.headers("rev")).text
    assert client.get(f"/api/roster/imports/{second['import_id']}/change",
                      headers=users.headers("rev")).json()["imported_at_command_line"] is False



def test_the_command_line_imports_a_roster_only_for_a_county_without_a_reviewer(ctx, users, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The operator may also hold a reviewer account: his command-line import and that account would be one person
    importing and confirming. As role grants (bootstrap_allowed), the command line serves only a county being set up;
    once the county has an active county reviewer (of it, or of every county), the reviewers import on the page."""
    from verifier.cli import main
    from verifier.store.tables import User

    county_being_set_up(ctx)
    monkeypatch.setenv("VERIFIER_HOME", str(ctx.settings.home))
    monkeypatch.setenv("VERIFIER_DATABASE_URL", ctx.settings.database_url)
    runner = CliRunner()
    path = tmp_path / "名册.csv"
    path.write_bytes(roster_csv([(new_id_number(), "脱贫户")]))
    for name, counties in (("rev", (COUNTY,)), ("everywhere", ())):
        uid = users.add(name, "county_reviewer", counties=counties)
        refused = runner.invoke(main, ["roster", "import", str(path), "--county", COUNTY])
        assert refused.exit_code == 1 and "未导入任何内容" in refused.output, refused.output
        assert "已有在用的县级复核员" in refused.output and "“名册”页" in refused.output, refused.output
        with ctx.db.read() as session:
            assert session.scalar(select(func.count()).select_from(RosterImport)) == 0
            assert session.scalar(select(func.count()).where(AuditEntry.action == "roster.import")) == 0
        with ctx.db.begin() as session:  # a disabled reviewer does not count
            session.execute(update(User).where(User.id == uid).values(active=False))
    done = runner.invoke(main, ["roster", "import", str(path), "--county", COUNTY])
    assert done.exit_code == 0 and "由服务器命令行导入" in done.output, done.output


def test_two_confirmations_at_once_confirm_once_and_two_imports_at_once_leave_one_pending(ctx) -> None:  # type: ignore[no-untyped-def]
    from race_kit import at_once

    from verifier.store.db import Database

    rev = reviewer(ctx, "rev-a")
    first = roster.import_roster(ctx.db, vault=ctx.vault, data=roster_csv([(new_id_number(), "脱贫户")]),
                                 filename="a.csv", county_code=COUNTY, principal=rev, clock=ctx.clock,
                                 limits=ctx.settings.imports)
    second = second_reviewer(ctx)
    answers: list[str] = []

    def confirm(_: int) -> None:
        db = Database(ctx.settings.database_url)
        try:
            answers.append(roster.confirm_import(db, first.import_id, principal=second, clock=ctx.clock).status)
        finally:
            db.dispose()

    assert at_once(2, confirm) == [] and answers == ["confirmed", "confirmed"]
    assert _actions(ctx) == ["roster.import", "roster.confirm"]

    others = [reviewer(ctx, "rev-b"), reviewer(ctx, "rev-c")]
    outcomes: list[str] = []

    def send(n: int) -> None:
        db = Database(ctx.settings.database_url)
        try:
            roster.import_roster(db, vault=ctx.vault, data=roster_csv([(new_id_number(), "脱贫户")]),
                                 filename=f"{n}.csv", county_code=COUNTY, principal=others[n], clock=ctx.clock,
                                 limits=ctx.settings.imports)
            outcomes.append("pending")
        except InvalidState as exc:
            outcomes.append("refused" if "等待确认" in exc.detail else exc.detail)
        finally:
            db.dispose()

    assert at_once(2, send) == [] and sorted(outcomes) == ["pending", "refused"]
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(RosterImport)
                              .where(RosterImport.status == "pending")) == 1
