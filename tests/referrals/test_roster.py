"""The county's roster (脱贫户 and 监测对象, as the monitoring system exports it) and bureau files without 户类型.

A referral file may leave out the household group; each person's group then comes from the county's current roster:
registered as having left poverty (stable or not) → 非高标准脱贫户; at the edge, in sudden hardship or on no roster →
非贫低收入户. Only a county reviewer imports a roster: it decides groups, and so relief tiers; it is in force once
another county reviewer confirms it (`roster_kit`; the confirmation itself: test_roster_confirmation.py)."""

from __future__ import annotations

import io

from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from factories import new_id_number
from roster_kit import (confirm, county_being_set_up, group_of, post_roster, referral_csv_without_groups, roster_csv,
                        second_reviewer)
from verifier.audit.models import AuditEntry
from verifier.domain.roster import group_for, parse_category
from verifier.roster.models import RosterEntry, RosterImport
from verifier.store.tables import Case

COUNTY = "340223"


def count(ctx, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_categories_as_the_exports_write_them() -> None:
    assert parse_category("脱贫户") == "exited"
    assert parse_category("监测对象-脱贫不稳定户") == "exited_unstable"
    assert parse_category("监测对象（边缘易致贫户）") == "edge"
    assert parse_category(" 突发严重困难户 ") == "sudden_hardship"
    assert parse_category("低保户") is None
    assert group_for("exited") == group_for("exited_unstable") == "exited_low_standard"
    assert group_for("edge") == group_for("sudden_hardship") == group_for(None) == "low_income"


def test_a_file_without_groups_takes_them_from_the_roster(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    exited, unstable, edge, nobody = (new_id_number() for _ in range(4))
    r = post_roster(client, users.headers("rev"),
                    roster_csv([(exited, "脱贫户"), (unstable, "监测对象-脱贫不稳定户"), (edge, "边缘易致贫户")]))
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 3 and r.json()["categories"] == {"edge": 1, "exited": 1, "exited_unstable": 1}
    assert r.json()["status"] == "pending"
    confirm(ctx, r.json()["import_id"])

    r = client.post("/api/referrals/imports", headers=users.headers("sup"),
                    files={"file": ("医保局.csv", referral_csv_without_groups([exited, unstable, edge, nobody]),
                                    "text/csv")},
                    data={"channel": "medical_insurance", "county_code": COUNTY})
    assert r.status_code == 201, r.text
    assert group_of(ctx, ctx.vault, exited) == "exited_low_standard"
    assert group_of(ctx, ctx.vault, unstable) == "exited_low_standard"
    assert group_of(ctx, ctx.vault, edge) == "low_income"
    assert group_of(ctx, ctx.vault, nobody) == "low_income"  # on no roster: a 非贫低收入户 candidate

    # A newer roster is the county's roster from then on.
    later = new_id_number()
    r = post_roster(client, users.headers("rev"), roster_csv([(later, "脱贫户"), (edge, "脱贫户")], "utf-8"),
                    "名册-12月.csv")
    assert r.status_code == 201, r.text
    confirm(ctx, r.json()["import_id"])
    r = client.post("/api/referrals/imports", headers=users.headers("sup"),
                    files={"file": ("民政局.csv", referral_csv_without_groups([later]), "text/csv")},
                    data={"channel": "civil_affairs", "county_code": COUNTY})
    assert r.status_code == 201, r.text
    assert group_of(ctx, ctx.vault, later) == "exited_low_standard"
    listed = client.get("/api/roster/imports", headers=users.headers("sup"))
    assert listed.status_code == 200 and [i["rows"] for i in listed.json()] == [2, 3]
    assert [i["status"] for i in listed.json()] == ["confirmed", "confirmed"]
    assert {i["confirmed_by"] for i in listed.json()} == {second_reviewer(ctx).id}


def test_a_group_given_in_the_file_is_the_rosters_for_a_person_on_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The roster decides a household's group (two county reviewers change it), and so its relief tiers: a bureau
    file naming another group for a person on it is refused, that row named with both groups, nothing written. A
    person on no roster may be given the second group only; before the county's roster is in force every file's
    group stands."""
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    person, agreeing, nobody = new_id_number(), new_id_number(), new_id_number()
    r = post_roster(client, users.headers("rev"), roster_csv([(person, "脱贫户"), (agreeing, "边缘易致贫户")]))
    assert r.status_code == 201, r.text
    roster_id = r.json()["import_id"]

    def post(rows: list[tuple[str, str]], name: str) -> object:
        data = ("身份证号,姓名,乡镇,村,户类型,原因,金额,日期\n" + "".join(
            f"{n},甲,城关镇,东村,{g},因病,30000.00,2020-05-20\n" for n, g in rows)).encode()
        return client.post("/api/referrals/imports", headers=users.headers("sup"),
                           files={"file": (name, data, "text/csv")},
                           data={"channel": "civil_affairs", "county_code": COUNTY})

    # Pending, the roster is not the county's yet: the file's group stands.
    r = post([(person, "非贫低收入户")], "a.csv")
    assert r.status_code == 201, r.text
    assert group_of(ctx, ctx.vault, person) == "low_income"
    confirm(ctx, roster_id)

    cases = count(ctx, Case)
    r = post([(agreeing, "非贫低收入户"), (person, "非贫低收入户"), (nobody, "非贫低收入户")], "b.csv")
    assert r.status_code == 422, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "household_group")], r.text
    message = r.json()["errors"][0]["message"]
    assert "文件填写为非贫低收入户" in message and "县防返贫监测名单上此人为非高标准脱贫户" in message, message
    assert count(ctx, Case) == cases  # nothing of the file written

    # On no roster: the second group, as a clerk's application for the same person is held to.
    r = post([(agreeing, "非贫低收入户"), (person, "非高标准脱贫户"), (nobody, "非高标准脱贫户")], "c.csv")
    assert r.status_code == 422, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(4, "household_group")], r.text
    message = r.json()["errors"][0]["message"]
    assert "此人不在县防返贫监测名单上" in message and "户类型应为非贫低收入户" in message, message
    assert count(ctx, Case) == cases

    r = post([(agreeing, "非贫低收入户"), (person, "非高标准脱贫户"), (nobody, "非贫低收入户")], "d.csv")
    assert r.status_code == 201, r.text
    assert group_of(ctx, ctx.vault, agreeing) == "low_income"
    assert group_of(ctx, ctx.vault, nobody) == "low_income"


def test_a_bad_roster_is_refused_whole_with_every_problem(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    good, twice = new_id_number(), new_id_number()
    entries_before = count(ctx, AuditEntry)
    data = roster_csv([(good, "脱贫户"), ("340223199901011234", "脱贫户"), (new_id_number(), "低保户"),
                       (twice, "边缘易致贫户"), (twice, "脱贫户"), (new_id_number(), "")])
    r = post_roster(client, users.headers("rev"), data)
    assert r.status_code == 422, r.text
    problems = {(e["field"], e.get("row")) for e in r.json()["errors"]}
    assert problems == {("id_number", 3), ("category", 4), ("category", 6), ("category", 7)}, r.json()
    assert count(ctx, RosterImport) == count(ctx, RosterEntry) == 0
    assert count(ctx, AuditEntry) == entries_before

    no_column = "证件号码,姓名\n340223195301240216,甲\n".encode()
    r = post_roster(client, users.headers("rev"), no_column)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "category"


def test_only_the_county_imports_its_roster_and_the_same_file_changes_nothing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("other", "county_reviewer", counties=("340224",))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    data = roster_csv([(new_id_number(), "脱贫户")])
    assert post_roster(client, users.headers("sup"), data).status_code == 403  # the insurer must not steer groups
    assert post_roster(client, users.headers("other"), data).status_code == 404  # another county: not found
    first = post_roster(client, users.headers("rev"), data)
    again = post_roster(client, users.headers("rev"), data)
    assert first.status_code == again.status_code == 201
    assert again.json()["repeated"] is True and again.json()["import_id"] == first.json()["import_id"]
    assert again.json()["status"] == "pending"
    assert count(ctx, RosterImport) == 1 and count(ctx, RosterEntry) == 1
    with ctx.db.read() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action == "roster.import")))
    assert actions == ["roster.import"]
    assert client.get("/api/roster/imports", headers=users.headers("other")).json() == []


def test_an_xlsx_roster_and_the_command_line(ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from verifier.cli import main

    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号码", "人员类别"])
    person = new_id_number()
    ws.append(["甲", person, "突发严重困难户"])
    buffer = io.BytesIO()
    wb.save(buffer)
    path = tmp_path / "名册.xlsx"
    path.write_bytes(buffer.getvalue())
    bad = tmp_path / "坏.csv"
    bad.write_bytes(roster_csv([("123", "脱贫户")]))

    county_being_set_up(ctx)
    monkeypatch.setenv("VERIFIER_HOME", str(ctx.settings.home))
    monkeypatch.setenv("VERIFIER_DATABASE_URL", ctx.settings.database_url)
    runner = CliRunner()
    done = runner.invoke(main, ["roster", "import", str(path), "--county", COUNTY])
    assert done.exit_code == 0 and "突发严重困难户 1 人" in done.output, done.output
    assert "由服务器命令行导入" in done.output and "确认后生效" in done.output, done.output
    refused = runner.invoke(main, ["roster", "import", str(bad), "--county", COUNTY])
    assert refused.exit_code == 1 and "未导入任何内容" in refused.output and "第 2 行，“身份证号”列" in refused.output
    with ctx.db.read() as session:
        assert session.scalar(select(RosterEntry.category)) == "sudden_hardship"
