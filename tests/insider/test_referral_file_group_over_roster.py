"""A bureau's file naming a household group over the county's roster (防返贫监测名单).

The roster decides a household's group (两名县级复核员: one imports it, another confirms it), and the group decides
the relief tiers: under the demo contract 因病 for a 非高标准脱贫户 has a 5,000 yuan deductible, for a 非贫低收入户
20,000. An insurer supervisor or a county reviewer imports a bureau's file (民政局, say) whose 户类型 column names
非高标准脱贫户 for a person the roster lists as 边缘易致贫户 (非贫低收入户): the new case would take the file's group,
and the generous tier, though nobody changed the roster. Once the roster is in force, the file's group must be the
roster's (for a person on no roster, 非贫低收入户, as a clerk's application is held to): the row is refused as a bad row naming both groups (the bureau corrects its file), nothing of the file
written, by the API, the import page and a medical-insurance settlement export alike. The refusal tells the
roster's group, so the rows compared are counted per importer as a file's rows without groups are
(`referrals/roster_probes.py`): past the allowance the row is named 需核对 without the roster's answer."""

from __future__ import annotations

from typing import Any

from factories import COUNTY, new_id_number
from roster_kit import post_confirmed, roster_csv
from sqlalchemy import func, select
from web.pagekit import Pages

from verifier.audit.models import AuditEntry
from verifier.store.tables import Case, Household, Referral

HEADER = "身份证号,姓名,乡镇,村,户类型,原因,金额,日期\n"
SETTLEMENTS = "序号,参保人姓名,身份证号码,乡镇（街道）,村（社区）,结算日期,医疗总费用,基本医疗保险统筹基金支付,户类型\n"


def _file(rows: list[tuple[str, str]]) -> bytes:
    return (HEADER + "".join(f"{n},甲,城关镇,东村,{g},因病,30000.00,2020-05-20\n" for n, g in rows)).encode("utf-8")


def _post(client: Any, headers: dict[str, str], data: bytes, channel: str = "civil_affairs") -> Any:
    return client.post("/api/referrals/imports", headers=headers, files={"file": ("民政局.csv", data, "text/csv")},
                       data={"channel": channel, "county_code": COUNTY})


def _written(ctx: Any) -> tuple[int, ...]:
    with ctx.db.read() as session:
        return (session.scalar(select(func.count()).select_from(Case)) or 0,
                session.scalar(select(func.count()).select_from(Household)) or 0,
                session.scalar(select(func.count()).select_from(Referral)) or 0,
                session.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action == "referrals.import")) or 0)


def _groups(ctx: Any) -> set[str]:
    with ctx.db.read() as session:
        return set(session.scalars(select(Case.household_group)))


def test_attack_a_bureau_file_gives_a_person_on_the_roster_the_generous_group(ctx: Any, client: Any,
                                                                               users: Any) -> None:
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    edge, sudden, exited = new_id_number(), new_id_number(), new_id_number()
    post_confirmed(client, ctx, users.headers("rev"),
                   roster_csv([(edge, "边缘易致贫户"), (sudden, "突发严重困难户"), (exited, "脱贫户")]))
    before = _written(ctx)

    # The supervisor's file: a good row first, then the person at the edge of poverty named 非高标准脱贫户.
    for who in ("sup", "rev"):
        r = _post(client, users.headers(who), _file([(exited, "非高标准脱贫户"), (edge, "非高标准脱贫户")]))
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert [(e["row"], e["field"]) for e in errors] == [(3, "household_group")], r.text
        assert "文件填写为非高标准脱贫户" in errors[0]["message"], r.text
        assert "县防返贫监测名单上此人为非贫低收入户" in errors[0]["message"], r.text
        assert _written(ctx) == before and _groups(ctx) == set()

    # The import page says the same, with the row; nothing written.
    pages = Pages(client, users)
    pages.login("sup")
    r = pages.post("/referrals/import", {"channel": "civil_affairs", "county_code": COUNTY},
                   files={"file": ("民政局.csv", _file([(sudden, "非高标准脱贫户")]), "text/csv")})
    assert r.status_code == 422 and '<td class="num">2</td><td>户类型</td><td>文件填写为非高标准脱贫户，县防返贫监测名单上此人为非贫低收入户' in r.text, r.text[-3000:]
    assert _written(ctx) == before

    # A person on no roster given the generous group: refused as a clerk's application for them would be.
    nobody = new_id_number()
    r = _post(client, users.headers("sup"), _file([(exited, "非高标准脱贫户"), (nobody, "非高标准脱贫户")]))
    assert r.status_code == 422, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "household_group")], r.text
    assert "此人不在县防返贫监测名单上，户类型应为非贫低收入户" in r.json()["errors"][0]["message"], r.text
    assert _written(ctx) == before

    # A medical-insurance settlement export with a 户类型 column: the same rule.
    data = (SETTLEMENTS + f"1,乙,{edge},城关镇,东村,2020-02-03,40000.00,10000.00,非高标准脱贫户\n").encode("gbk")
    r = _post(client, users.headers("sup"), data, "medical_insurance")
    assert r.status_code == 422 and "县防返贫监测名单上此人为非贫低收入户" in r.text, r.text
    assert _written(ctx) == before

    # Corrected (the roster's group, or the column left empty: the roster decides), the file is taken in.
    r = _post(client, users.headers("sup"), _file([(exited, "非高标准脱贫户"), (edge, "非贫低收入户"), (sudden, "")]))
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        groups = {b: g for b, g in session.execute(select(Referral.id_number_bidx, Case.household_group)
                                                   .join(Case, Case.id == Referral.case_id))}
    assert groups == {ctx.vault.blind_index(exited, "id_number"): "exited_low_standard",
                      ctx.vault.blind_index(edge, "id_number"): "low_income",
                      ctx.vault.blind_index(sudden, "id_number"): "low_income"}


def test_past_the_importers_allowance_the_row_is_named_without_the_rosters_group(ctx: Any, client: Any,
                                                                                   users: Any) -> None:
    """The refusal tells the roster's group of a number the importer typed: a refused file's rows with a group are
    answered while the importer's allowance lasts (distinct numbers in the window), past it named 需核对."""
    per_window = ctx.settings.id_lookups_per_window
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    edge = new_id_number()
    post_confirmed(client, ctx, users.headers("rev"), roster_csv([(edge, "边缘易致贫户")]))
    before = _written(ctx)
    fresh = [(new_id_number(), "非贫低收入户") for _ in range(per_window)]  # on no roster: their group
    r = _post(client, users.headers("sup"), _file(fresh + [(edge, "非高标准脱贫户")]))
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [e["row"] for e in errors] == [per_window + 2], r.text
    assert errors[0]["message"].startswith("需核对") and "非贫低收入户" not in r.text, r.text
    assert "过一段时间再导入" in errors[0]["message"], r.text
    assert _written(ctx) == before
    # The file refused for another error too: the row tells the importer to correct that first, not to wait.
    bad = HEADER + f"{new_id_number()},甲,城关镇,东村,非贫低收入户,因病,不是金额,2020-05-20\n"
    r = _post(client, users.headers("sup"), (bad + _file([(edge, "非高标准脱贫户")]).decode()[len(HEADER):]).encode())
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [e["row"] for e in errors][-1] == 3 and errors[-1]["message"].startswith("需核对"), r.text
    assert "请先改正文件中其他各行的错误后重新导入" in errors[-1]["message"], r.text
    assert "过一段时间" not in r.text and "非贫低收入户，" not in errors[-1]["message"], r.text
    assert _written(ctx) == before
    # Another importer's allowance is untouched: the same file is answered in full.
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    r = _post(client, users.headers("sup2"), _file([(edge, "非高标准脱贫户")]))
    assert r.status_code == 422 and "县防返贫监测名单上此人为非贫低收入户" in r.text, r.text
