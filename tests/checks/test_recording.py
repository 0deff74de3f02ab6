"""Recording a home check writes exactly its rows and its audit entry (prepared reads, Core writes: checks/recording.py),
and two officers recording the same case at the same moment make one check."""

from __future__ import annotations

import json
import threading
from typing import Any

from factories import make_case, new_id_number, staff
from sqlalchemy import func, select

from verifier.accounts.auth import Principal
from verifier.audit.counties import county_of
from verifier.audit.models import AuditEntry
from verifier.audit.verify import verify_log
from verifier.cases import numbers
from verifier.cases.service import active_visit, due_date
from verifier.checks import service as checks
from verifier.domain.errors import InvalidState
from verifier.domain.income import HouseholdIncome, RigidExpenditure
from verifier.domain.planning import days_late
from verifier.store.db import Database
from verifier.store.tables import Case, Check, Household, Member, User


def _scheduled(ctx: Any) -> tuple[str, list[Principal], list[tuple[Member, str]]]:
    """A scheduled case, its two officers, and its household's members with their ID numbers (its head 王建国: a
    check's payee is a member on record under the name it had)."""
    case_id = make_case(ctx, stage="scheduled", members=2, head_name="王建国")
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        officer_ids = list(active_visit(session, case_id).officer_ids)
        members = session.scalars(select(Member).where(Member.household_id == case.household_id)
                                  .order_by(Member.id)).all()
        known = [(m, ctx.vault.open(m.id_number_enc, "member.id_number")) for m in members]
    from verifier.accounts.auth import principal_of

    with ctx.db.read() as session:
        officers = [principal_of(session.get(User, uid)) for uid in officer_ids]
    return case_id, officers, known


def _form(officers: list[str], members: list[dict[str, str]], **kw: Any) -> checks.CheckInput:
    payee_name = kw.pop("payee_name", members[0]["name"] if members else "王建国")
    return checks.CheckInput(
        visited_on=kw.pop("visited_on"), officers=officers, members=members,
        income=HouseholdIncome(wages=600_000, transfer_net=12_345, productive_costs=1_000),
        rigid=RigidExpenditure(medical_self_paid=4_200_000, schooling=300_000), stable_income=False,
        payee=None if payee_name is None else {"account_name": payee_name, "bank": "农村商业银行",
                                               "account_number": "6222 0202 0011 2233 445"},
        cross_checks=[{"source": "medical_insurance", "finding": "consistent"}], evidence=[], note="", **kw)


def test_a_check_writes_its_members_check_status_and_audit_entry_exactly(ctx: Any) -> None:
    case_id, officers, known = _scheduled(ctx)
    (first, first_idn), *others = known
    newcomer = new_id_number()
    with ctx.db.read() as session:
        before = session.get(Case, case_id)
        version, household_id, referred_on = before.version, before.household_id, before.referred_on
        due = due_date(session, before)  # the ORM's reading of the due day
        log_size = session.scalar(select(func.count()).select_from(AuditEntry))
    with ctx.db.read() as session:
        usernames = [session.get(User, o.id).username for o in officers]
    form_members = [{"name": " 王建国 ", "id_number": first_idn.lower(), "relation": "head", "labour": "partial"},
                    *({"name": m.name, "id_number": idn, "relation": m.relation, "labour": m.labour or "none"}
                      for m, idn in others),
                    {"name": "王小明", "id_number": newcomer, "relation": "child", "labour": "none"}]
    visited_on = ctx.clock.today()
    # Named by username, as the schedule takes them: stored by id.
    with ctx.db.begin() as session:
        recorded = checks.record_check(session, case_id, _form(usernames, form_members, visited_on=visited_on),
                                       vault=ctx.vault, principal=officers[0], clock=ctx.clock)
    now = ctx.clock.now()

    with ctx.db.read() as session:
        check = session.get(Check, recorded.id)
        assert recorded.seq == check.seq == 1 and check.case_id == case_id
        members = {m.id: m for m in session.scalars(select(Member).where(Member.household_id == household_id))}
        assert len(members) == len(known) + 1
        # the existing member as found at the door; its sealed ID number is the one it had
        row = members[first.id]
        assert (row.name, row.relation, row.labour) == ("王建国", "head", "partial")
        assert row.id_number_enc == first.id_number_enc
        for m, _ in others:
            assert (members[m.id].name, members[m.id].relation) == (m.name, m.relation)
        # the new member: sealed, with its blind index and tail index
        [new] = [m for mid, m in members.items() if mid not in {k.id for k, _ in known}]
        assert ctx.vault.open(new.id_number_enc, "member.id_number") == newcomer
        assert new.id_number_bidx == ctx.vault.blind_index(newcomer, "id_number")
        assert new.id_tail_bidx == numbers.tail_index(ctx.vault, newcomer)
        assert (new.name, new.relation, new.labour, new.household_id) == ("王小明", "child", "none", household_id)
        assert session.get(Household, household_id).head_name == "王建国"

        # the check's every column
        assert check.officer_ids == [o.id for o in officers]
        assert (check.visited_on, check.due_on, check.days_late) == (visited_on, due, days_late(visited_on, due))
        assert [(m["member_id"], m["name"], m["relation"], m["labour"]) for m in check.members] == [
            (first.id, "王建国", "head", "partial"),
            *((m.id, m.name, m.relation, m.labour or "none") for m, _ in others),
            (new.id, "王小明", "child", "none")]
        assert [ctx.vault.open(bytes.fromhex(m["id_number_enc"]), "check.member_id_number") for m in check.members] \
            == [first_idn.upper(), *(idn for _, idn in others), newcomer]
        assert check.member_count == len(known) + 1
        assert (check.wages, check.business_net, check.property_net, check.transfer_net, check.productive_costs) == (
            600_000, 0, 0, 12_345, 1_000)
        assert (check.medical_self_paid, check.schooling, check.disaster_loss, check.other_rigid) == (
            4_200_000, 300_000, 0, 0)
        assert check.stable_income is False
        assert (check.payee_name, check.payee_bank) == ("王建国", "农村商业银行")
        assert ctx.vault.open(check.payee_account_enc, "check.payee_account") == "6222020200112233445"
        assert check.cross_checks == [{"source": "medical_insurance", "finding": "consistent", "note": ""}]
        assert (check.evidence, check.note, check.recorded_by, check.recorded_at) == ([], None, officers[0].id, now)
        assert (check.sent_back_by, check.sent_back_at, check.sent_back_reason) == (None, None, None)
        assert (check.recorded_days_after, check.late_entry_reason) == (0, None)  # recorded on its visit day

        case = session.get(Case, case_id)
        assert (case.status, case.version, case.updated_at) == ("checked", version + 1, now)

        # one audit entry, its payload and county as the log derives them
        entries = session.scalars(select(AuditEntry).where(AuditEntry.idx >= log_size).order_by(AuditEntry.idx)).all()
        assert [e.action for e in entries] == ["case.record_check"]
        entry = entries[0]
        body = json.loads(entry.entry)
        assert (entry.actor, entry.role, entry.subject, entry.contract_hash) == (
            officers[0].id, "field_officer", case_id, case.contract_hash)
        assert body["payload"] == {
            "from": "scheduled", "to": "checked", "check_id": recorded.id, "seq": 1,
            "visited_on": visited_on.isoformat(), "members": len(known) + 1, "due_on": due.isoformat(),
            "days_late": days_late(visited_on, due), "recorded_days_after": 0, "net_income": "6113.45", "rigid_expenditure": "45000.00",
            "stable_income": False, "inconsistent_cross_checks": 0, "evidence": []}
        assert entry.county_code == case.county_code == county_of(session, case_id, body["payload"])
        assert visited_on >= referred_on
    assert verify_log(ctx.db, [ctx.signer.verifier]).ok


def test_a_session_that_held_the_case_reads_what_the_check_changed(ctx: Any) -> None:
    case_id, officers, known = _scheduled(ctx)
    (first, first_idn), *_ = known
    with ctx.db.begin() as session:
        case = session.get(Case, case_id)
        household = session.get(Household, case.household_id)
        member = session.get(Member, first.id)
        assert case.status == "scheduled"
        checks.record_check(session, case_id, _form(
            [o.id for o in officers], [{"name": "改名户主", "id_number": first_idn, "relation": "head",
                                        "labour": "none"}], visited_on=ctx.clock.today(),
            payee_name=None),  # a renamed head is no payee at the door (a payee change)
            vault=ctx.vault, principal=officers[1], clock=ctx.clock)
        assert case.status == "checked"
        assert household.head_name == member.name == "改名户主"


def test_two_officers_recording_the_same_case_at_once_make_one_check(ctx: Any, database_url: str) -> None:
    other = Database(database_url)  # the second officer's request served by another process
    try:
        for _ in range(3):
            case_id, officers, known = _scheduled(ctx)
            form = _form([o.id for o in officers],
                         [{"name": m.name, "id_number": idn, "relation": m.relation, "labour": "full"}
                          for m, idn in known], visited_on=ctx.clock.today())
            start = threading.Barrier(2)
            made: list[str] = []
            refused: list[BaseException] = []
            unexpected: list[BaseException] = []

            def record(i: int) -> None:
                database = ctx.db if i == 0 else other
                try:
                    start.wait()
                    with database.begin() as session:
                        made.append(checks.record_check(session, case_id, form, vault=ctx.vault,
                                                        principal=officers[i], clock=ctx.clock).id)
                except InvalidState as exc:
                    refused.append(exc)
                except BaseException as exc:  # noqa: BLE001
                    unexpected.append(exc)

            threads = [threading.Thread(target=record, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            assert unexpected == []
            assert len(made) == 1 and len(refused) == 1 and "已核查" in str(refused[0])
            with ctx.db.read() as session:
                assert session.scalars(select(Check.id).where(Check.case_id == case_id)).all() == made
                assert session.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.subject == case_id, AuditEntry.action == "case.record_check")) == 1
                assert session.get(Case, case_id).status == "checked"
    finally:
        other.dispose()
    assert verify_log(ctx.db, [ctx.signer.verifier]).ok


def test_a_refused_check_writes_nothing_and_the_next_write_does_not_wait(ctx: Any) -> None:
    case_id, officers, known = _scheduled(ctx)
    s = staff(ctx)
    with ctx.db.read() as session:
        log_size = session.scalar(select(func.count()).select_from(AuditEntry))
    try:
        with ctx.db.begin() as session:
            checks.record_check(session, case_id, _form([o.id for o in officers], [], visited_on=ctx.clock.today()),
                                vault=ctx.vault, principal=officers[0], clock=ctx.clock)
    except Exception as exc:  # noqa: BLE001
        assert "至少填写一名家庭成员" in str(getattr(exc, "errors", exc))
    else:
        raise AssertionError("a check without members was recorded")
    done = threading.Event()

    def write() -> None:  # another thread's write: the refused one's turn at the write lock is over
        with ctx.db.begin() as session:
            session.get(User, s.clerk.id).display_name = "另一线程"
        done.set()

    t = threading.Thread(target=write)
    t.start()
    assert done.wait(10), "a write waited for the write lock of a write that had ended"
    t.join()
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == log_size
        assert session.get(Case, case_id).status == "scheduled"
        assert session.scalar(select(func.count()).select_from(Check).where(Check.case_id == case_id)) == 0


def test_what_a_write_does_before_its_first_statement_holds_no_lock(ctx: Any) -> None:
    s = staff(ctx)
    opened, written = threading.Event(), threading.Event()
    failed: list[BaseException] = []

    def slow() -> None:
        try:
            with ctx.db.begin() as session:
                opened.set()  # the block is open, nothing has run yet (checking a form, sealing)
                assert written.wait(10)
                session.get(User, s.clerk.id).display_name = "慢的一方"
        except BaseException as exc:  # noqa: BLE001
            failed.append(exc)

    t = threading.Thread(target=slow)
    t.start()
    assert opened.wait(10)
    with ctx.db.begin() as session:  # not kept waiting by the open block
        session.get(User, s.supervisor.id).display_name = "快的一方"
    written.set()
    t.join(30)
    assert failed == []
    with ctx.db.read() as session:
        assert session.get(User, s.clerk.id).display_name == "慢的一方"


def test_a_write_session_bound_to_a_held_connection_derives_the_county_too(ctx: Any) -> None:
    """The writes on the event loop run in a session bound to a connection held out of the pool (`store.db`): the
    county of an entry's subject is looked up there as in a session bound to the engine (it asserted an engine and
    answered such a write with 500)."""
    from sqlalchemy.orm import Session

    case_id, _, _ = _scheduled(ctx)
    with ctx.db.read() as session:
        expected = session.get(Case, case_id).county_code  # type: ignore[union-attr]
    with ctx.db.engine.connect() as connection:
        with Session(bind=connection) as session:
            assert county_of(session, case_id, {}) == expected


def test_a_caller_admitted_as_another_user_than_the_one_whose_look_ups_were_read_is_refused(ctx: Any) -> None:
    """A check's caller not yet looked up (`checks.Admission`, the shortcut's on PostgreSQL) has their look-ups in the
    window read with the check's first reads, by the token's user id (`member_probes`): a caller admitted as anyone
    else is refused as a session not found, nothing written; admitted as that user, the check is recorded and its
    new member counted for them."""
    from datetime import timedelta

    import pytest
    from sqlalchemy import bindparam

    from verifier.accounts.models import LoginAttempt
    from verifier.accounts.probes import Limit
    from verifier.checks.member_probes import ALLOWANCE
    from verifier.store.reader import Prepared

    case_id, officers, known = _scheduled(ctx)
    with ctx.db.read() as session:
        usernames = [session.get(User, o.id).username for o in officers]
    members = [{"name": m.name, "id_number": idn, "relation": m.relation, "labour": m.labour or "none"}
               for m, idn in known]
    form = _form(usernames, [*members, {"name": "王小明", "id_number": new_id_number(), "relation": "child",
                                        "labour": "none"}], visited_on=ctx.clock.today())
    lookup = (Prepared(select(User.id).where(User.id == bindparam("uid"))), {"uid": officers[0].id})

    class Refused(Exception):
        pass

    def admit(row: Any) -> Principal:
        if row is None:
            raise Refused()
        return officers[0]

    def counted(user_id: str) -> int:
        with ctx.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(LoginAttempt)
                                      .where(LoginAttempt.bucket == ALLOWANCE._bucket(user_id))) or 0)

    limit = Limit(timedelta(minutes=15), 60)
    with pytest.raises(Refused):
        with ctx.db.begin() as session:
            checks.record_check(session, case_id, form, vault=ctx.vault, clock=ctx.clock, lookups=limit,
                                principal=checks.Admission(lookup, admit, officers[1].id))
    assert (counted(officers[0].id), counted(officers[1].id)) == (0, 0)
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "scheduled"
    with ctx.db.begin() as session:
        checks.record_check(session, case_id, form, vault=ctx.vault, clock=ctx.clock, lookups=limit,
                            principal=checks.Admission(lookup, admit, officers[0].id))
    assert (counted(officers[0].id), counted(officers[1].id)) == (1, 0)
