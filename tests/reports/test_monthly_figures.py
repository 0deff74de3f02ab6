"""Every figure of the monthly report, 本月 and 累计 and the breakdowns, on one known dataset built through the real
services with the clock moved day by day: paper records typed in later, a payment the bank settles the next month,
a late check, a visit that found nobody home, a failed transfer, a dismissed objection, a failed village review and
a sampling re-check that disagrees.

The dataset (county 340223, contract demo-2020: 累计 runs from 2020-01-01):

| case | town/village | group | cause | what happens (event date; typed-in date when later) |
|---|---|---|---|---|
| J | 青山乡/青山村 | exited | illness | applied 03-15 |
| A | 城关镇/东村 | exited | illness | applied 05-06; checked, eligible 05-12; review 05-20; notice 06-02; objection 06-04 dismissed; paid: settled 06-29 by the bank's return imported 07-02 |
| B | 城关镇/西村 | low | illness | bureau list (medical insurance) 05-04 and own application 05-07: one case; checked, eligible 05-12; review 05-20; notice 05-25; transfer failed (same return) |
| C | 城关镇/东村 | low | illness | applied 05-20; visited 05-28, typed in 06-05 and decided 06-05 |
| F | 城关镇/西村 | exited | illness | applied 06-01; checked, eligible 06-03; review 06-05; notice 06-08; paid by a return imported 07-03 without a settlement date |
| D | 河口镇/河口村 | exited | illness | applied 06-01 (due 06-11); visited 06-15: four days late; eligible 06-15; review failed 06-16 |
| E | 河口镇/河口村 | low | illness | applied 06-02; visited 06-08: nobody home |
| G | 河口镇/柳树村 | low | disaster | bureau list (emergency management) 06-03; checked, eligible 06-09 |
| H | 城关镇/东村 | exited | illness | applied 06-05; checked 06-12: ineligible |

A sampling round over May and June is drawn on 06-20; on 06-22 the county re-checks A (agrees) and D (disagrees).
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from door_kit import stored_door_photo
from factories import COUNTY, accept_contract, staff
from village_kit import confirm_posting
from recheck_kit import visit_service

from verifier.demo import demo_bills
from verifier import demo
from verifier.accounts.auth import principal_of
from verifier.accounts.service import add_user
from verifier.cases import service as cases
from verifier.checks import attempts
from verifier.checks import service as checks
from verifier.registers import service as registers
from verifier.domain.errors import ValidationFailed
from verifier.domain.income import HouseholdIncome, RigidExpenditure
from verifier.domain.money import format_yuan
from verifier.domain.sampling import commitment_of
from verifier.notices import service as notices
from verifier.payments import bankfiles
from verifier.payments import service as payments
from verifier.payments.models import PaymentItem
from verifier.referrals import service as referrals
from verifier.reports import service as report_service
from verifier.sampling import flow as sampling
from verifier.sampling import service as sampling_service
from verifier.store.tables import Determination, Referral

ROOT = Path(__file__).resolve().parents[2]


# --- one database for the module: the dataset is built once ----------------------------------------------------

@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, text

    from verifier.settings import normalise_database_url

    PG_URL = os.environ.get("VERIFIER_TEST_DATABASE_URL")
    if not PG_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('report-db') / 'test.db'}"
        return
    base = normalise_database_url(PG_URL)
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, database_url: str):  # type: ignore[no-untyped-def]
    from verifier.audit import checkpoints
    from verifier.bootstrap import bootstrap
    from verifier.clock import FixedClock
    from verifier.context import Context
    from verifier.contract import load_contract
    from verifier.settings import Settings
    from verifier.store import models  # noqa: F401  (every table registered)
    from verifier.store.base import Base
    from verifier.store.db import Database
    from verifier.store.vault import Vault

    home = tmp_path_factory.mktemp("report-home")
    settings = Settings(home=home, database_url=database_url)
    db = Database(database_url)
    Base.metadata.create_all(db.engine)
    signer = checkpoints.Signer.load(settings, create=True)
    context = Context(settings=settings, db=db, vault=Vault.from_dir(settings.keys_dir, create=True),
                      clock=FixedClock(datetime(2020, 3, 15, 2, 0, tzinfo=timezone.utc)), signer=signer)
    checkpoints.install(db, signer)
    bootstrap(context, [load_contract(ROOT / "contracts" / "demo-2020.toml")])
    with db.begin() as session:  # loaded contracts are pending until the county accepts them
        accept_contract(session, "demo-2020", context.clock)
    yield context
    db.dispose()


def _on(ctx: Any, day: date) -> None:
    """Move the fixed clock to 10:00 (Asia/Shanghai) of `day`."""
    ctx.clock.at = datetime(day.year, day.month, day.day, 2, 0, tzinfo=timezone.utc)


D = date


@pytest.fixture(scope="module")
def world(ctx) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Build the dataset of the module's docstring; returns the case ids by letter and the people."""
    team = staff(ctx)
    demo_team = demo.Team(team.clerk, team.supervisor, team.officer1, team.officer2)
    people = {}
    with ctx.db.begin() as session:
        for key, role in (("claims", "insurer_claims"), ("finance1", "finance"), ("finance2", "finance"),
                          ("reviewer", "county_reviewer"), ("supervisor2", "insurer_supervisor")):
            people[key] = principal_of(add_user(session, username=f"r-{key}", password="report-password",
                                                roles=[role], counties=[COUNTY], clock=ctx.clock))
    homes = {
        "J": ("青山乡", "青山村", "exited_low_standard", "illness"),
        "A": ("城关镇", "东村", "exited_low_standard", "illness"),
        "B": ("城关镇", "西村", "low_income", "illness"),
        "C": ("城关镇", "东村", "low_income", "illness"),
        "F": ("城关镇", "西村", "exited_low_standard", "illness"),
        "D": ("河口镇", "河口村", "exited_low_standard", "illness"),
        "E": ("河口镇", "河口村", "low_income", "illness"),
        "G": ("河口镇", "柳树村", "low_income", "disaster"),
        "H": ("城关镇", "东村", "exited_low_standard", "illness"),
    }
    hh = {k: demo.new_household(t, v, members=3, group=g) for k, (t, v, g, _) in homes.items()}
    ids: dict[str, str] = {}
    accounts = {k: f"62220202001{n:08d}" for n, k in enumerate(homes, start=1)}

    def apply(k: str, day: date) -> None:
        _on(ctx, day)
        ids[k] = demo.refer(ctx, demo_team, hh[k], cause=homes[k][3], amount="1000.00", referred_on=day)

    def bureau(k: str, channel: str, day: date, typed: date) -> None:
        _on(ctx, typed)
        h = hh[k]
        data = ("id_number,name,town,village,household_group,cause,amount,referred_on\n"
                f"{h.id_numbers[0]},{h.head},{h.town},{h.village},{h.group},{homes[k][3]},1000.00,{day}\n")
        with ctx.db.begin() as session:
            result = referrals.import_file(session, vault=ctx.vault, source=io.BytesIO(data.encode("utf-8")),
                                           filename=f"{channel}.csv", channel=channel, county_code=COUNTY,
                                           principal=team.supervisor, role="insurer_supervisor", clock=ctx.clock)
        assert result.rows == 1
        with ctx.db.read() as session:  # the case the row made (or joined): the one of its import
            ids.setdefault(k, session.scalar(select(Referral.case_id).where(Referral.import_id == result.batch_id)))

    def schedule(k: str, visit_on: date) -> None:
        with ctx.db.begin() as session:
            cases.screen(session, ids[k], decision="pass", reason="", principal=team.clerk, clock=ctx.clock)
        with ctx.db.begin() as session:
            cases.schedule(session, ids[k], officers=[team.officer1.id, team.officer2.id], visit_on=visit_on,
                           vehicle="车01", principal=team.supervisor, clock=ctx.clock)

    def check(k: str, visited_on: date, *, wages: int = 800_000, stable: bool = False) -> None:
        h, cause = hh[k], homes[k][3]
        rigid = RigidExpenditure(disaster_loss=4_200_000) if cause == "disaster" else \
            RigidExpenditure(medical_self_paid=4_200_000)
        members = [{"name": h.head if i == 0 else f"{h.head[0]}家{i}", "id_number": idn,
                    "relation": "head" if i == 0 else "child", "labour": "full"} for i, idn in enumerate(h.id_numbers)]
        data = checks.CheckInput(
            visited_on=visited_on, officers=[team.officer1.id, team.officer2.id], members=members,
            income=HouseholdIncome(wages=wages), rigid=rigid, stable_income=stable,
            payee={"account_name": h.head, "bank": "农村商业银行", "account_number": accounts[k]},
            cross_checks=[{"source": "medical_insurance", "finding": "consistent", "note": ""},
                          {"source": "bank", "finding": "inconsistent", "note": "另有存款"}],
            evidence=[], note="", bills=demo_bills(ids[k], "disaster_loss" if cause == "disaster" else
                                                    "medical_self_paid", 4_200_000),
            late_entry_reason="按纸质记录补录")  # some are recorded days after their visit (counted by the visit)
        with ctx.db.begin() as session:
            checks.record_check(session, ids[k], data, vault=ctx.vault, principal=team.officer1, clock=ctx.clock)
        answered = False
        with ctx.db.begin() as session:  # the officer's inconsistent cross-check is a finding to answer first
            for finding in registers.case_findings(session, ids[k]):
                if finding.status == "open":
                    registers.answer_finding(session, finding.id, outcome="explained", note="存款为亲属代管",
                                             principal=team.supervisor, clock=ctx.clock)
                    answered = True
        with ctx.db.begin() as session:  # who answered a finding does not confirm the determination too
            checks.determine(session, ids[k], confirm=True, clock=ctx.clock,
                             principal=people["supervisor2"] if answered else team.supervisor)

    def review(k: str, day: date, result: str = "pass") -> None:
        _on(ctx, day)
        with ctx.db.begin() as session:
            notices.record_review(session, ids[k], held_on=day, result=result, note="村民代表评议",
                                  principal=team.clerk, clock=ctx.clock)
            if result == "fail":  # a 未通过 closes the case once a second person confirms it
                notices.record_review(session, ids[k], held_on=day, result=result, note="",
                                      principal=people["reviewer"], clock=ctx.clock)

    def post(town: str, village: str, day: date) -> str:
        _on(ctx, day)
        with ctx.db.begin() as session:
            return notices.post_notice(session, notices.NoticeRequest(county_code=COUNTY, town=town, village=village,
                                                                      posted_on=day),
                                       principal=team.clerk, clock=ctx.clock).id

    def close(notice_id: str, day: date) -> None:
        _on(ctx, day)
        confirm_posting(ctx, notice_id)  # the county reviewer at the village saw it on the wall
        with ctx.db.begin() as session:
            notices.close_notice(session, notice_id, principal=team.clerk, clock=ctx.clock)

    def pay(day: date) -> str:
        _on(ctx, day)
        with ctx.db.begin() as session:
            batch = payments.create_batch(session, county_code=COUNTY, contract_id=None, principal=people["claims"],
                                          clock=ctx.clock).id
        with ctx.db.begin() as session:
            payments.approve(session, batch, principal=people["finance1"], vault=ctx.vault, clock=ctx.clock)
        with ctx.db.begin() as session:
            payments.release(session, batch, principal=people["finance2"], vault=ctx.vault, clock=ctx.clock)
        return batch

    def bank_return(batch: str, day: date, failed: set[str], settled_on: date | None = None) -> None:
        """The bank's return, imported on `day`; with `settled_on`, its 到账日期 column says when the bank settled."""
        _on(ctx, day)
        with ctx.db.read() as session:
            items = session.execute(select_items(batch)).all()
        extra = (",到账日期", f",{settled_on}") if settled_on else ("", "")
        lines = f"reference,status,bank_reference,reason{extra[0]}\n" + "".join(
            f"{ref},failed,,账户已销户{extra[1]}\n" if case_id in failed else f"{ref},success,BK{n:04d},{extra[1]}\n"
            for n, (ref, case_id) in enumerate(items))
        data = lines.encode("utf-8")
        with ctx.db.begin() as session:
            payments.import_return(session, batch, bankfiles.parse_return(data),
                                   file_sha256=hashlib.sha256(data).hexdigest(), filename="return.csv",
                                   principal=people["finance1"], clock=ctx.clock)

    apply("J", D(2020, 3, 15))
    bureau("B", "medical_insurance", D(2020, 5, 4), typed=D(2020, 5, 6))
    apply("A", D(2020, 5, 6))
    apply("B", D(2020, 5, 7))  # the same household's own application: merged into its case
    _on(ctx, D(2020, 5, 12))
    for k in ("A", "B"):
        schedule(k, D(2020, 5, 12))
        check(k, D(2020, 5, 12))
    apply("C", D(2020, 5, 20))
    schedule("C", D(2020, 5, 28))
    review("A", D(2020, 5, 20))
    review("B", D(2020, 5, 20))
    west_may = post("城关镇", "西村", D(2020, 5, 25))
    apply("F", D(2020, 6, 1))
    apply("D", D(2020, 6, 1))
    schedule("D", D(2020, 6, 15))  # after its due date 06-11: planned late
    close(west_may, D(2020, 6, 2))
    east = post("城关镇", "东村", D(2020, 6, 2))
    apply("E", D(2020, 6, 2))
    schedule("E", D(2020, 6, 8))
    _on(ctx, D(2020, 6, 3))
    schedule("F", D(2020, 6, 3))
    check("F", D(2020, 6, 3))
    bureau("G", "emergency_management", D(2020, 6, 3), typed=D(2020, 6, 4))
    _on(ctx, D(2020, 6, 4))
    with ctx.db.begin() as session:
        objection = notices.record_objection(session, east, case_id=ids["A"], received_on=D(2020, 6, 4),
                                             summary="反映家中有经营收入", principal=team.clerk, clock=ctx.clock).id
    apply("H", D(2020, 6, 5))
    _on(ctx, D(2020, 6, 5))  # the paper record of C's visit of 05-28 is typed in, and decided
    check("C", D(2020, 5, 28))
    with ctx.db.begin() as session:
        notices.resolve_objection(session, objection, outcome="dismissed", note="经核实无经营收入",
                                  principal=people["reviewer"], clock=ctx.clock)  # not the clerk who recorded it
    review("F", D(2020, 6, 5))
    west_june = post("城关镇", "西村", D(2020, 6, 8))
    with ctx.db.begin() as session:
        door = stored_door_photo(ctx, session, ids["E"], team.officer1, D(2020, 6, 8))
        attempts.record_attempt(session, ids["E"], attempts.AttemptInput(
            visited_on=D(2020, 6, 8), officers=[team.officer1.id, team.officer2.id], outcome="not_home",
            evidence=[door]), principal=team.officer1, clock=ctx.clock)
    _on(ctx, D(2020, 6, 9))
    schedule("G", D(2020, 6, 9))
    check("G", D(2020, 6, 9))
    close(east, D(2020, 6, 10))
    first_batch = pay(D(2020, 6, 10))
    _on(ctx, D(2020, 6, 12))
    schedule("H", D(2020, 6, 12))
    check("H", D(2020, 6, 12), wages=9_000_000, stable=True)
    _on(ctx, D(2020, 6, 15))
    check("D", D(2020, 6, 15))
    review("D", D(2020, 6, 16), result="fail")
    close(west_june, D(2020, 6, 16))
    second_batch = pay(D(2020, 6, 16))

    # The county's sampling round over May and June: drawn on 06-20, A and D re-checked on 06-22.
    county_secret, insurer_secret = secrets.token_bytes(32), secrets.token_bytes(32)
    with ctx.db.begin() as session:
        round_id = sampling.open_round(session, sampling.RoundRequest(
            county_code=COUNTY, checked_from=D(2020, 5, 1), checked_to=D(2020, 6, 30)),
            principal=people["reviewer"], clock=ctx.clock).id
    for party, who, secret in (("county", people["reviewer"], county_secret),
                               ("insurer", team.supervisor, insurer_secret)):
        with ctx.db.begin() as session:
            sampling.commit(session, round_id, party, commitment_of(secret).hex(), principal=who, clock=ctx.clock)
    sampling.freeze_round(ctx.db, ctx.signer, round_id, principal=people["reviewer"], clock=ctx.clock)
    for party, who, secret in (("county", people["reviewer"], county_secret),
                               ("insurer", team.supervisor, insurer_secret)):
        with ctx.db.begin() as session:
            sampling.reveal(session, round_id, party, secret.hex(), principal=who, clock=ctx.clock, vault=ctx.vault)
    _on(ctx, D(2020, 6, 22))
    with ctx.db.read() as session:
        determined = {case_id: (income, relief) for case_id, income, relief in session.execute(
            select_determinations())}
    for k, agrees in (("A", True), ("D", False)):
        income, relief = determined[ids[k]]
        visit = visit_service(ctx, people["reviewer"], round_id, ids[k])
        with ctx.db.begin() as session:
            out = sampling_service.record_result(session, round_id, sampling_service.ResultInput(
                case_id=ids[k], per_capita_income=format_yuan(income), eligible=agrees,
                relief_amount=format_yuan(relief) if agrees else None, visit=visit), principal=people["reviewer"],
                clock=ctx.clock)
        assert out.deviation is (not agrees)
    # The first batch's return arrives on 07-02 saying the bank settled it on 06-29 (June's figures); a date before
    # the batch's release (06-10) or after today is refused, and nothing of that return is applied.
    refused = []
    for wrong in (D(2020, 6, 9), D(2020, 7, 5)):
        with pytest.raises(ValidationFailed) as exc:
            bank_return(first_batch, D(2020, 7, 2), failed={ids["B"]}, settled_on=wrong)
        refused.append({(e.field, e.row) for e in exc.value.errors})
    bank_return(first_batch, D(2020, 7, 2), failed={ids["B"]}, settled_on=D(2020, 6, 29))
    bank_return(second_batch, D(2020, 7, 3), failed=set())  # no 到账日期: settled on the day it is imported
    return {"refused": refused, "ids": ids, "reviewer": people["reviewer"], "relief": {k: determined[ids[k]][1] for k in ids
                                                                   if ids[k] in determined}}


def select_items(batch_id: str) -> Any:
    return select(PaymentItem.reference, PaymentItem.case_id).where(PaymentItem.batch_id == batch_id) \
        .order_by(PaymentItem.seq)


def select_determinations() -> Any:
    return select(Determination.case_id, Determination.per_capita_income, Determination.relief)


def _report(ctx: Any, world: dict[str, Any], month: str) -> dict[str, Any]:
    with ctx.db.read() as session:
        return report_service.monthly(session, world["reviewer"], COUNTY, month)


def _pairs(report: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (v["month"], v["cumulative"]) for k, v in report["figures"].items()}


def _yuan(fen: int) -> str:
    return format_yuan(fen)


def test_every_figure_of_june_and_the_year_so_far(ctx, world) -> None:  # type: ignore[no-untyped-def]
    r, relief = _report(ctx, world, "2020-06"), world["relief"]
    assert r["cumulative_from"] == "2020-01-01" and r["cumulative_to"] == "2020-06-30"
    assert r["contract_id"] == "demo-2020"
    assert _pairs(r) == {
        # J in March; A, B twice, C in May; F, D, E, G, H in June.
        "referrals": (5, 10), "new_cases": (5, 9),
        # A, B in May and C visited 05-28 though typed in 06-05; F, G, H, D and E (nobody home) in June.
        "visits": (5, 8), "households_visited": (5, 8), "person_visits": (10, 16), "without_check": (1, 1),
        "checks": (4, 7), "checked_households": (4, 7), "late": (1, 1), "cross_checks": (8, 14),
        # A, B decided in May; C (typed in and decided 06-05), F, G, D in June; H ineligible.
        "eligible": (4, 6), "ineligible": (1, 1),
        "relief_determined": (_yuan(sum(relief[k] for k in "CFGD")), _yuan(sum(relief[k] for k in "ABCFGD"))),
        "reviews_passed": (1, 3), "reviews_failed": (1, 1),
        "notices_posted": (2, 3), "noticed": (2, 3),
        "noticed_relief": (_yuan(relief["A"] + relief["F"]), _yuan(relief["A"] + relief["B"] + relief["F"])),
        "objections": (1, 1), "objections_upheld": (0, 0), "objections_dismissed": (1, 1), "objections_open": (0, 0),
        # A settled 06-29 though its return came on 07-02 (B's transfer failed); F's return came in July.
        "paid": (1, 1), "paid_amount": (_yuan(relief["A"]), _yuan(relief["A"])), "payment_failed": (1, 1),
        "sampling_rounds": (1, 1), "rechecked": (2, 2), "deviations": (1, 1),
    }
    channels = {k: (v["month"], v["cumulative"]) for k, v in r["referrals_by_channel"].items()}
    assert channels == {"medical_insurance": (0, 1), "civil_affairs": (0, 0), "emergency_management": (1, 1),
                        "education": (0, 0), "application": (4, 8)}
    assert {k: (v["month"], v["cumulative"]) for k, v in r["without_check_by_outcome"].items()} == {
        "not_home": (1, 1), "refused": (0, 0), "moved_away": (0, 0), "other": (0, 0)}
    assert {k: (v["month"], v["cumulative"]) for k, v in r["eligible_by_rule"].items()} == {
        "income_line": (4, 6), "burden": (0, 0)}
    # The month's sections keep their fields, with the month's figures.
    assert r["referrals"] == {"records": 5, "new_cases": 5,
                              "by_channel": {"emergency_management": 1, "application": 4}}
    assert r["checks"] == {"completed": 4, "households": 4, "late": 1, "cross_checks": 8, "visits": 5,
                           "households_visited": 5, "person_visits": 10, "without_check": 1,
                           "without_check_by_outcome": {"not_home": 1}}
    assert r["payments"] == {"paid_households": 1, "paid": _yuan(relief["A"]), "failed": 1}
    assert r["sampling"] == {"rounds": 1, "drawn": 1, "rechecked": 2, "deviations": 1}
    assert r["recoveries"] == {"opened": {"month": 0, "cumulative": 0}, "amount": {"month": "0.00", "cumulative": "0.00"},
                               "recovered": {"month": "0.00", "cumulative": "0.00"}}  # the deviation was unpaid: held


def test_the_breakdowns_of_june(ctx, world) -> None:  # type: ignore[no-untyped-def]
    r, relief = _report(ctx, world, "2020-06"), world["relief"]
    keys = ("referrals", "households_visited", "checks", "late", "eligible", "noticed", "paid", "paid_amount",
            "deviations")

    def table(dimension: str, *names: str) -> dict[Any, dict[str, tuple[Any, Any]]]:
        return {tuple(row[n] for n in names) if len(names) > 1 else row[names[0]]:
                {k: (row[k]["month"], row[k]["cumulative"]) for k in keys} for row in r["breakdowns"][dimension]}

    zero = {k: (0, 0) for k in keys} | {"paid_amount": ("0.00", "0.00")}
    assert table("village", "town", "village") == {
        ("城关镇", "东村"): zero | {"referrals": (1, 3), "households_visited": (1, 3), "checks": (1, 3),
                                  "eligible": (1, 2), "noticed": (1, 1), "paid": (1, 1),
                                  "paid_amount": (_yuan(relief["A"]),) * 2, "deviations": (0, 0)},  # A, C, H
        ("城关镇", "西村"): zero | {"referrals": (1, 3), "households_visited": (1, 2), "checks": (1, 2),
                                  "eligible": (1, 2), "noticed": (1, 2)},  # B, F
        ("河口镇", "河口村"): zero | {"referrals": (2, 2), "households_visited": (2, 2), "checks": (1, 1),
                                    "late": (1, 1), "eligible": (1, 1), "deviations": (1, 1)},  # D, E
        ("河口镇", "柳树村"): zero | {"referrals": (1, 1), "households_visited": (1, 1), "checks": (1, 1),
                                    "eligible": (1, 1)},  # G
        ("青山乡", "青山村"): zero | {"referrals": (0, 1)},  # J
    }
    towns = table("town", "town")
    assert set(towns) == {"城关镇", "河口镇", "青山乡"}
    assert towns["城关镇"]["referrals"] == (2, 6) and towns["河口镇"]["households_visited"] == (3, 3)
    assert table("cause", "cause") == {
        "illness": zero | {"referrals": (4, 9), "households_visited": (4, 7), "checks": (3, 6), "late": (1, 1),
                           "eligible": (3, 5), "noticed": (2, 3), "paid": (1, 1),
                           "paid_amount": (_yuan(relief["A"]),) * 2, "deviations": (1, 1)},
        "disaster": zero | {"referrals": (1, 1), "households_visited": (1, 1), "checks": (1, 1), "eligible": (1, 1)},
        "schooling": zero,  # a known cause with no case: a row of zeros
    }
    assert table("group", "group") == {
        # A, D, F, H, J
        "exited_low_standard": zero | {"referrals": (3, 5), "households_visited": (3, 4), "checks": (3, 4),
                                       "late": (1, 1), "eligible": (2, 3), "noticed": (2, 2), "paid": (1, 1),
                                       "paid_amount": (_yuan(relief["A"]),) * 2, "deviations": (1, 1)},
        # B (two referrals), C, E, G
        "low_income": zero | {"referrals": (2, 5), "households_visited": (2, 4), "checks": (1, 3),
                              "eligible": (2, 3), "noticed": (0, 1)},
    }


def test_a_settlement_day_outside_the_batchs_release_and_today_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    # Every line of the return names the bad day (the header is line 1): two items, lines 2 and 3.
    assert world["refused"] == [{("settled_on", 2), ("settled_on", 3)}] * 2


def test_may_counts_the_paper_visit_and_july_the_late_settlement(ctx, world) -> None:  # type: ignore[no-untyped-def]
    relief = world["relief"]
    may = _pairs(_report(ctx, world, "2020-05"))
    assert may["referrals"] == (4, 5) and may["new_cases"] == (3, 4)
    assert may["checks"] == (3, 3) and may["visits"] == (3, 3) and may["person_visits"] == (6, 6)  # C's visit of 05-28
    assert may["eligible"] == (2, 2) and may["noticed"] == (1, 1) and may["paid"] == (0, 0)
    july = _pairs(_report(ctx, world, "2020-07"))
    assert july["paid"] == (1, 2)  # F: the return of 07-03
    assert july["paid_amount"] == (_yuan(relief["F"]), _yuan(relief["A"] + relief["F"]))
    assert july["checks"] == (0, 7) and july["referrals"] == (0, 10) and july["deviations"] == (0, 1)


def test_each_figure_leads_to_the_cases_it_counts(ctx, world) -> None:  # type: ignore[no-untyped-def]
    ids = world["ids"]
    letter = {v: k for k, v in ids.items()}

    def cases_of(figure: str, month: str = "2020-06") -> str:
        with ctx.db.read() as session:
            found = session.execute(report_service.figure_cases(COUNTY, month, figure, session)).scalars()
            return "".join(sorted({letter[c] for c in found}))

    assert cases_of("checks") == "DFGH" and cases_of("cum_checks") == "ABCDFGH"
    assert cases_of("visits") == "DEFGH" and cases_of("without_check:not_home") == "E"
    assert cases_of("late") == "D" and cases_of("eligible") == "CDFG" and cases_of("ineligible") == "H"
    assert cases_of("paid") == "A" and cases_of("paid", "2020-07") == "F" and cases_of("cum_paid", "2020-07") == "AF"
    assert cases_of("cum_referrals:medical_insurance") == "B" and cases_of("referrals:application") == "DEFH"
    assert cases_of("cum_referrals:low_income") == "BCEG"  # a household group's part of a figure
    assert cases_of("deviations") == "D" and cases_of("rechecked") == "AD"
    assert cases_of("noticed") == "AF" and cases_of("cum_noticed") == "ABF"


def test_the_api_and_the_spreadsheet_carry_both_columns(ctx, world, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("rev-fig", "county_reviewer", counties=(COUNTY,))
    h = users.headers("rev-fig")
    r = client.get("/api/reports/monthly", params={"county": COUNTY, "month": "2020-06"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["figures"]["checks"] == {"month": 4, "cumulative": 7}
    assert client.get("/api/reports/monthly", params={"month": "2020-06"}, headers=h).status_code == 422
    x = client.get("/api/reports/monthly", params={"county_code": COUNTY, "month": "2020-06", "format": "xlsx"},
                   headers=h)
    book = openpyxl.load_workbook(io.BytesIO(x.content))
    rows = {row[0]: row[1:] for row in book["概要"].iter_rows(min_row=2, values_only=True)}
    assert rows["完成入户核查（次）"] == (4, 7) and rows["入户人次"] == (10, 16)
    assert rows["　其中：农户申请"] == (4, 8) and rows["其中经入户走访有偏差（户）"] == (1, 1)
    relief = world["relief"]
    assert Decimal(str(rows["兑现金额（元）"][0])) == Decimal(_yuan(relief["A"]))
    assert book["概要"].cell(1, 3).value == "累计（2020-01-01 至 2020-06-30）"
    by_group = list(book["按户类型"].iter_rows(values_only=True))
    assert by_group[0][:3] == ("户类型", "监测信息（条）本月", "监测信息（条）累计")
    assert [row[:3] for row in by_group[1:]] == [("非高标准脱贫户", 3, 5), ("非贫低收入户", 2, 5)]


def test_the_report_costs_a_fixed_number_of_statements(ctx, world) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    counted: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        counted.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", count)
    try:
        sizes = []
        for month in ("2020-03", "2020-06"):  # one case so far, nine cases at every stage
            counted.clear()
            _report(ctx, world, month)
            sizes.append(len(counted))
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", count)
    assert sizes[0] == sizes[1] and sizes[1] <= 25, sizes


def test_a_deviation_typed_at_the_desk_is_no_deviation_of_the_report(ctx, world) -> None:  # type: ignore[no-untyped-def]
    """D's deviation as if sent through the API's figures-only body (no visit): the result is recorded (月内录入, so
    `rechecked` still counts it: activity), but it is no deviation, in the figure nor in the cases behind it, until
    its visit is added. A result from before the control (evidence never set) counts as it did."""
    from verifier.sampling.models import SamplingResult

    ids, letter = world["ids"], {v: k for k, v in world["ids"].items()}

    def figures_and_cases() -> tuple[tuple[Any, Any], tuple[Any, Any], str, str]:
        pairs = _pairs(_report(ctx, world, "2020-06"))
        with ctx.db.read() as session:
            listed = ["".join(sorted({letter[c] for c in session.execute(
                report_service.figure_cases(COUNTY, "2020-06", f, session)).scalars()}))
                for f in ("rechecked", "deviations")]
        return pairs["rechecked"], pairs["deviations"], listed[0], listed[1]

    def set_d(visited_on: Any, evidence: Any) -> tuple[Any, Any]:
        with ctx.db.begin() as session:
            row = session.scalars(select(SamplingResult).where(SamplingResult.case_id == ids["D"])).one()
            before = (row.visited_on, row.evidence)
            row.visited_on, row.evidence = visited_on, evidence
        return before

    assert figures_and_cases() == ((2, 2), (1, 1), "AD", "D")
    kept = set_d(None, [])  # waiting for its visit
    try:
        assert figures_and_cases() == ((2, 2), (0, 0), "AD", "")
        set_d(None, None)  # recorded before the control
        assert figures_and_cases() == ((2, 2), (1, 1), "AD", "D")
    finally:
        set_d(*kept)
