"""Referral intake against the database: all or nothing, merging by any member's ID number, repeats."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from factories import accept_contract, make_case, new_id_number, staff
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.domain.errors import NotFound, ValidationFailed
from verifier.referrals.service import import_file
from verifier.store.tables import Case, Check, Household, Member, Referral, ReferralImport

HEADER = ["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期"]


def xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run_import(ctx, data: bytes, *, name: str = "f.xlsx", channel: str = "civil_affairs"):  # type: ignore[no-untyped-def]
    s = staff(ctx)
    with ctx.db.begin() as session:
        return import_file(session, vault=ctx.vault, source=io.BytesIO(data), filename=name, channel=channel,
                           county_code="340223", principal=s.supervisor, role="insurer_supervisor", clock=ctx.clock)


def counts(ctx) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in
                     (Case, Referral, Household, Member, ReferralImport, AuditEntry))


def test_a_bad_row_stores_nothing_and_every_bad_row_is_reported(ctx) -> None:  # type: ignore[no-untyped-def]
    staff(ctx)
    before = counts(ctx)
    good = [new_id_number(), "张三", "城关镇", "东村", "非贫低收入户", "因病", 30000, date(2020, 5, 1)]
    rows = [good] * 2500  # more than one chunk is written before the bad rows are met
    rows += [[new_id_number(), "李四", "城关镇", "东村", "非贫低收入户", "因病", -5, date(2020, 5, 1)],
             [new_id_number(), "王五", "城关镇", "东村", "非贫低收入户", "因祸", 100, date(2020, 5, 1)],
             [new_id_number(), "赵六", "城关镇", "东村", "非贫低收入户", "因病", 100, date(2019, 5, 1)]]
    with pytest.raises(ValidationFailed) as info:
        run_import(ctx, xlsx(rows))
    found = {(e.row, e.field) for e in info.value.errors}
    assert found == {(2502, "amount"), (2503, "cause"), (2504, "referred_on")}
    assert counts(ctx) == before


def test_merges_by_any_members_id_number(ctx) -> None:  # type: ignore[no-untyped-def]
    # A case whose check recorded the whole household ...
    case_id = make_case(ctx, stage="checked", members=3)
    with ctx.db.read() as session:
        check = session.scalar(select(Check).where(Check.case_id == case_id))
        child_enc = bytes.fromhex(check.members[2]["id_number_enc"])
    child = ctx.vault.open(child_enc, "check.member_id_number")
    # ... then a bureau refers the child for the same cause: it joins the household's open case.
    result = run_import(ctx, xlsx([[child, "成员2", "城关镇", "东村", "非高标准脱贫户", "因病", 8000, date(2020, 5, 30)]]))
    assert (result.new_cases, result.merged) == (0, 1)
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Referral).where(Referral.case_id == case_id)) == 2
    # A different cause for the same household is a case of its own.
    result = run_import(ctx, xlsx([[child, "成员2", "城关镇", "东村", "非高标准脱贫户", "因灾", 20000, date(2020, 5, 30)]]),
                        channel="emergency_management")
    assert (result.new_cases, result.merged) == (1, 0)


def test_the_same_file_twice_changes_nothing(ctx) -> None:  # type: ignore[no-untyped-def]
    data = xlsx([[new_id_number(), "张三", "城关镇", "东村", "非贫低收入户", "因病", "30000.00", date(2020, 5, 1)]])
    first = run_import(ctx, data)
    before = counts(ctx)
    assert before[0] == 1
    second = run_import(ctx, data)
    assert second.repeated and second.batch_id == first.batch_id
    assert counts(ctx) == before


def test_import_for_a_county_outside_the_users_reach(ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx, county="340224")
    with pytest.raises(NotFound), ctx.db.begin() as session:
        import_file(session, vault=ctx.vault, source=io.BytesIO(b"x"), filename="f.csv", channel="civil_affairs",
                    county_code="340223", principal=s.supervisor, role="insurer_supervisor", clock=ctx.clock)


def test_personal_data_is_sealed_at_rest(ctx) -> None:  # type: ignore[no-untyped-def]
    idn = new_id_number()
    run_import(ctx, xlsx([[idn, "张三", "城关镇", "东村", "非贫低收入户", "因病", 30000, date(2020, 5, 1)]]))
    with ctx.db.read() as session:
        for table, column in ((Member, "id_number_enc"), (Referral, "id_number_enc")):
            for value in session.scalars(select(getattr(table, column))):
                assert idn.encode() not in value
        entries = b"".join(session.scalars(select(AuditEntry.entry)))
    assert idn.encode() not in entries


def test_a_person_of_another_countys_household_is_refused_not_merged(ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.store import contracts as contract_store
    from verifier.contract import check_contract_text
    from pathlib import Path

    demo = (Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")
    other, _ = check_contract_text(demo.replace('id = "demo-2020"', 'id = "other-2020"')
                                   .replace('"340223"', '"340224"').encode())
    with ctx.db.begin() as session:
        contract_store.add_contract(session, other, actor="test", role="admin", clock=ctx.clock)
        accept_contract(session, other.id, ctx.clock)  # as the county would
    idn = new_id_number()
    run_import(ctx, xlsx([[idn, "张三", "城关镇", "东村", "非贫低收入户", "因病", 30000, date(2020, 5, 1)]]))
    s = staff(ctx, county="340224")
    data = xlsx([[idn, "张三", "新镇", "新村", "非贫低收入户", "因病", 30000, date(2020, 5, 2)]])
    before = counts(ctx)
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        import_file(session, vault=ctx.vault, source=io.BytesIO(data), filename="f.xlsx", channel="civil_affairs",
                    county_code="340224", principal=s.supervisor, role="insurer_supervisor", clock=ctx.clock)
    assert [(e.row, e.field) for e in info.value.errors] == [(2, "id_number")]
    # Neutral: neither where the person is known nor that they are.
    message = info.value.errors[0].message
    assert message == "该身份证号无法在本县登记，请联系县级复核员"
    assert counts(ctx)[:5] == before[:5]  # nothing of the file is stored; the log gains the conflict's entry
    assert counts(ctx)[5] == before[5] + 1
    from verifier.conflicts.models import CountyConflict

    with ctx.db.read() as session:
        (conflict,) = session.query(CountyConflict).all()
    assert (conflict.source, conflict.county_code, conflict.home_county_code, conflict.row) == (
        "referral_import", "340224", "340223", 2)
    assert conflict.person_bidx == ctx.vault.blind_index(idn, "id_number") and conflict.actor == s.supervisor.id



@pytest.mark.parametrize("limit", [50_000, 3])
def test_people_met_again_in_later_chunks_join_their_case(ctx, monkeypatch, limit) -> None:  # type: ignore[no-untyped-def]
    # What an import remembers from chunk to chunk (with a tiny limit: forgets, and asks the database again)
    # must give the same cases as asking the database for every chunk.
    from verifier.referrals import service

    remembering = service._Known
    monkeypatch.setattr(service, "_Known", lambda: remembering(limit))
    existing = make_case(ctx, stage="received")
    with ctx.db.read() as session:
        household = session.get(Case, existing).household_id
        head = session.scalar(select(Member).where(Member.household_id == household))
        head_id = ctx.vault.open(head.id_number_enc, "member.id_number")
        referred_before = session.scalar(select(func.count()).select_from(Referral).where(Referral.case_id == existing))
    people = [new_id_number() for _ in range(7)]
    rows = [[people[k % 7], f"户主{k % 7}", "城关镇", "东村", "非贫低收入户", "因病", 100 + k, date(2020, 5, 1)]
            for k in range(4500)]  # three chunks, each person in every one
    rows[4400] = [head_id, "户主", "城关镇", "东村", "非贫低收入户", "因病", 1, date(2020, 5, 1)]  # in the last chunk
    result = run_import(ctx, xlsx(rows))
    assert (result.rows, result.new_cases, result.merged) == (4500, 7, 4493)
    with ctx.db.read() as session:
        per_case = dict(session.execute(select(Referral.case_id, func.count()).where(Referral.import_id == result.batch_id)
                                        .group_by(Referral.case_id)).all())
        new_households = session.scalar(select(func.count()).select_from(Household).where(Household.id != household))
        referred_after = session.scalar(select(func.count()).select_from(Referral).where(Referral.case_id == existing))
    assert per_case.pop(existing) == 1 and referred_after == referred_before + 1
    assert sorted(per_case.values()) == [642, 642] + [643] * 5  # person 4 gave row 4400 to the existing head
    assert new_households == 7
