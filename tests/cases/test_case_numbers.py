"""Readable case numbers: county, year received, a sequence per county and year; given once, never twice."""

from __future__ import annotations

import io
import threading
from datetime import date

import openpyxl
from factories import make_case, new_id_number, staff
from sqlalchemy import select, text

from migration_cache import at_revision
from verifier import demo
from verifier.cases import numbers
from verifier.referrals.service import import_file
from verifier.store.db import Database
from verifier.store.migrate import upgrade
from verifier.store.tables import Case, CaseNumberCounter

NOW = "2020-06-01 02:00:00"


def number_of(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return session.scalar(select(Case.number).where(Case.id == case_id))


def test_applications_are_numbered_per_county_and_year_received(ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    a = make_case(ctx, stage="received", referred_on=date(2020, 5, 1))
    b = make_case(ctx, stage="received", referred_on=date(2020, 5, 2))
    c = make_case(ctx, stage="received", referred_on=date(2020, 5, 2), county=other_county)
    assert [number_of(ctx, x) for x in (a, b, c)] == ["340223-2020-000001", "340223-2020-000002",
                                                      f"{other_county}-2020-000001"]


def test_an_import_numbers_its_new_cases_in_row_order_and_a_merge_keeps_the_number(ctx) -> None:  # type: ignore[no-untyped-def]
    first = make_case(ctx, stage="received", referred_on=date(2020, 5, 1))
    people = [new_id_number() for _ in range(3)]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期"])
    for i, idn in enumerate(people):
        ws.append([idn, f"张{i}", "城关镇", "东村", "非贫低收入户", "因病", 100, date(2020, 5, 3)])
    ws.append([people[0], "张0", "城关镇", "东村", "非贫低收入户", "因病", 50, date(2020, 5, 4)])  # merged
    out = io.BytesIO()
    wb.save(out)
    s = staff(ctx)
    with ctx.db.begin() as session:
        result = import_file(session, vault=ctx.vault, source=io.BytesIO(out.getvalue()), filename="f.xlsx",
                             channel="civil_affairs", county_code="340223", principal=s.supervisor,
                             role="insurer_supervisor", clock=ctx.clock)
    assert (result.new_cases, result.merged) == (3, 1)
    with ctx.db.read() as session:
        got = session.execute(select(Case.number, Case.household_id).order_by(Case.number)).all()
        counter = session.get(CaseNumberCounter, ("340223", 2020))
    assert [n for n, _ in got] == [f"340223-2020-{i:06d}" for i in range(1, 5)]
    assert number_of(ctx, first) == "340223-2020-000001"
    assert counter is not None and counter.last_seq == 4


def test_a_refused_creation_gives_its_number_to_nobody_and_the_next_case_takes_the_next(ctx) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received")
    try:
        with ctx.db.begin() as session:
            numbers.reserve(session, "340223", 2020, 5)
            raise RuntimeError("refused later in the same transaction")
    except RuntimeError:
        pass
    second = make_case(ctx, stage="received")
    assert number_of(ctx, second) == "340223-2020-000002"


def test_concurrent_creations_never_share_a_number(ctx) -> None:  # type: ignore[no-untyped-def]
    team = staff(ctx)
    households = [demo.new_household("城关镇", f"{i}村") for i in range(6)]
    barrier = threading.Barrier(len(households))
    made: list[str] = []
    errors: list[BaseException] = []

    def create(hh) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            made.append(demo.refer(ctx, demo.Team(team.clerk, team.supervisor, team.officer1, team.officer2), hh,
                                   referred_on=date(2020, 5, 20)))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(hh,)) for hh in households]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = sorted(number_of(ctx, c) for c in made)
    assert got == [f"340223-2020-{i:06d}" for i in range(1, 7)]


def test_concurrent_reservations_take_disjoint_blocks(db) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(4)
    blocks: list[list[str]] = []

    def take() -> None:
        barrier.wait()
        with db.begin() as session:
            blocks.append(numbers.reserve(session, "340223", 2026, 25))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = sorted(n for b in blocks for n in b)
    assert every == [f"340223-2026-{i:06d}" for i in range(1, 101)]
    assert all(b == sorted(b) and len(b) == 25 for b in blocks)


def test_the_migration_numbers_existing_cases_in_creation_order(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0015")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO contract (id, content_hash, title, county_codes, period_start, period_end, "
                              "budget, source, loaded_at) VALUES ('c', 'h', 't', '[]', '2020-01-01', '2021-12-31', "
                              "0, '', :now)"), {"now": NOW})
            conn.execute(text("INSERT INTO household (id, county_code, town, village, household_group, head_name, "
                              "created_at) VALUES ('hh', '340223', 't', 'v', 'low_income', 'h', :now)"), {"now": NOW})
            cases = [("case_b", "340223", "2020-05-01", "2020-06-01 02:00:00"),
                     ("case_a", "340223", "2020-05-03", "2020-06-02 02:00:00"),  # created later, smaller id
                     ("case_c", "340224", "2020-05-01", "2020-06-01 03:00:00"),
                     ("case_d", "340223", "2021-01-05", "2020-06-01 04:00:00"),
                     ("case_e", "340223", "2020-12-31", "2020-06-03 02:00:00")]
            for cid, county, referred, created in cases:
                conn.execute(text(
                    "INSERT INTO relief_case (id, household_id, county_code, town, village, household_group, cause, "
                    "contract_id, contract_hash, contract_year, status, referred_on, reported_amount, created_at, "
                    "updated_at, version) VALUES (:id, 'hh', :county, 't', 'v', 'low_income', 'illness', 'c', 'h', "
                    "2020, 'paid', :referred, 0, :created, :created, 1)"),
                    {"id": cid, "county": county, "referred": referred, "created": created})
        upgrade(db)
        with db.engine.connect() as conn:
            got = dict(conn.execute(text("SELECT id, number FROM relief_case")).tuples().all())
            counters = set(conn.execute(text("SELECT county_code, year, last_seq FROM case_number_counter")).tuples())
        assert got == {"case_b": "340223-2020-000001", "case_a": "340223-2020-000002",
                       "case_c": "340224-2020-000001", "case_d": "340223-2021-000001",
                       "case_e": "340223-2020-000003"}
        assert counters == {("340223", 2020, 3), ("340224", 2020, 1), ("340223", 2021, 1)}
        with db.begin() as session:
            assert numbers.reserve(session, "340223", 2020, 1) == ["340223-2020-000004"]
    finally:
        db.dispose()
