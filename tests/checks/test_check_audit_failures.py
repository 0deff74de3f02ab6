"""A check whose audit entry cannot be appended commits nothing and is answered as a failing log (503, no stack);
with registers in force, the check's entry and the findings' are appended with the COMMIT on PostgreSQL (the log's
head not locked while the registers are read)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from factories import make_case
from race_kit import head_free
from sqlalchemy import func, select, text

from verifier import demo
from verifier.audit.models import AuditEntry
from verifier.audit.verify import verify_log
from verifier.checks import service as checks
from verifier.registers import service as registers
from verifier.store import db as store_db
from verifier.store import faults
from verifier.store.tables import Case, Check, Referral, User, Visit

COUNTY = "340223"


def _login(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _scheduled(ctx: Any) -> tuple[str, list[str], str, str]:
    case_id = make_case(ctx, stage="scheduled")
    with ctx.db.read() as session:
        officers = session.scalar(select(Visit.officer_ids).where(Visit.case_id == case_id, Visit.active.is_(True)))
        names = [session.get(User, o).username for o in officers]
        r = session.scalar(select(Referral).where(Referral.case_id == case_id))
        return case_id, names, r.name, ctx.vault.open(r.id_number_enc, "referral.id_number")


def _body(ctx: Any, officers: list[str], head: str, id_number: str) -> dict[str, Any]:
    return {"visited_on": ctx.clock.today().isoformat(), "officers": officers,
            "members": [{"name": head, "id_number": id_number, "relation": "head", "labour": "partial"}],
            "income": {"wages": "3000.00"}, "rigid_expenditure": {"medical_self_paid": "42000.00"},
            "stable_income": False, "payee": None,
            "cross_checks": [{"source": "medical_insurance", "finding": "consistent", "note": ""}]}


def _state(ctx: Any, case_id: str) -> tuple[Any, ...]:
    """What a check would change: the case's status and version, its checks, the log's entries."""
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        return (case.status, case.version, session.scalar(select(func.count()).where(Check.case_id == case_id)),
                [(e.idx, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.idx))])


def _refused_as_a_failing_log(ctx: Any, client: Any, case_id: str, officers: list[str], head: str, idn: str,
                              caplog: pytest.LogCaptureFixture) -> None:
    before = _state(ctx, case_id)
    with caplog.at_level("ERROR"):
        r = client.post(f"/api/cases/{case_id}/check", json=_body(ctx, officers, head, idn),
                        headers=_login(client, officers[0]))
    assert r.status_code == 503, r.text
    assert r.json()["detail"] == faults.LOG_FAILED_ZH
    assert _state(ctx, case_id) == before  # neither the check, nor the case's move, nor an entry
    assert not [rec for rec in caplog.records if rec.exc_info]  # answered, not a stack
    assert any("audit log refused an append" in rec.getMessage() for rec in caplog.records)


def test_a_check_with_the_logs_head_missing_is_refused_and_commits_nothing(ctx, client, caplog) -> None:  # type: ignore[no-untyped-def]
    # On PostgreSQL the server's statement numbers the entry NULL (no head to lock), which its key refuses; on
    # SQLite the process makes a new head at 0, whose first index the log holds already.
    case_id, officers, head, idn = _scheduled(ctx)
    assert _state(ctx, case_id)[3]  # the log holds entries
    with ctx.db.begin() as session:
        session.execute(text("DELETE FROM audit_head"))
    _refused_as_a_failing_log(ctx, client, case_id, officers, head, idn, caplog)


def test_a_check_with_the_logs_head_damaged_is_refused_and_commits_nothing(ctx, client, caplog) -> None:  # type: ignore[no-untyped-def]
    case_id, officers, head, idn = _scheduled(ctx)
    with ctx.db.begin() as session:  # one hash more than the size's set bits
        compact = bytes(session.execute(text("SELECT compact FROM audit_head")).scalar_one())
        session.execute(text("UPDATE audit_head SET compact = :c"), {"c": compact + bytes(32)})
    _refused_as_a_failing_log(ctx, client, case_id, officers, head, idn, caplog)


def test_an_append_refused_by_the_server_in_the_commits_pipeline_commits_nothing(ctx, client, caplog) -> None:  # type: ignore[no-untyped-def]
    # Another connection takes the index the head gives next (as a damaged log would hold it): the append, sent
    # with the COMMIT on PostgreSQL, fails there, and the check's rows sent before it are rolled back with it.
    case_id, officers, head, idn = _scheduled(ctx)
    with ctx.db.read() as session:
        size = session.execute(text("SELECT size FROM audit_head")).scalar_one()
        planted = dict(session.execute(select(AuditEntry.__table__).where(AuditEntry.idx == size - 1)).mappings().one())
    planted["idx"] = size
    with ctx.db.engine.connect() as other:
        other.execute(AuditEntry.__table__.insert().values(**planted))
        other.commit()
    _refused_as_a_failing_log(ctx, client, case_id, officers, head, idn, caplog)


def _household_at(ctx: Any) -> tuple[Any, Any, str]:
    from factories import staff

    s = staff(ctx)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", "东村", members=2)
    case_id = demo.refer(ctx, team, hh, referred_on=ctx.clock.today() - timedelta(days=3))
    demo.advance_to(ctx, team, case_id, hh, "scheduled", on=ctx.clock.today(), vehicle="车001")
    return team, hh, case_id


def test_with_registers_in_force_the_checks_entries_go_with_the_commit(ctx, database_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import register_kit
    from verifier.accounts.auth import Principal
    from verifier.domain.income import HouseholdIncome, RigidExpenditure

    team, hh, case_id = _household_at(ctx)
    reviewer = Principal(id="rev-test", username="rev", display_name="rev", roles=("county_reviewer",),
                         counties=(COUNTY,))
    data = ("\r\n".join(["身份证号,号牌号码,车辆价值", f"{hh.id_numbers[1]},皖B11111,30000.00"]) + "\r\n").encode()
    done = registers.import_register(ctx.db, vault=ctx.vault, data=data, filename="vehicle.csv", kind="vehicle",
                                     county_code=COUNTY, principal=reviewer, clock=ctx.clock,
                                     limits=ctx.settings.imports)
    register_kit.confirm(ctx, done.import_id, COUNTY)
    postgres = not ctx.db.is_sqlite
    free_at_commit: list[bool] = []
    sending = store_db.send_deferred

    def send_deferred(dbapi_connection: Any, dialect: Any, **kw: Any) -> None:
        if kw.get("commit"):
            free_at_commit.append(head_free(database_url))  # nothing of the log sent before the COMMIT's pipeline
        sending(dbapi_connection, dialect, **kw)

    monkeypatch.setattr(store_db, "send_deferred", send_deferred)
    before = _state(ctx, case_id)[3]
    with ctx.db.begin() as session:
        checks.record_check(session, case_id, checks.CheckInput(
            visited_on=ctx.clock.today(), officers=[team.officer1.id, team.officer2.id],
            members=[{"name": f"{hh.head}{i}" if i else hh.head, "id_number": idn,
                      "relation": ["head", "spouse"][i], "labour": "full"} for i, idn in enumerate(hh.id_numbers)],
            income=HouseholdIncome(wages=100_000), rigid=RigidExpenditure(medical_self_paid=3_000_000),
            stable_income=False, payee=None, evidence=[], note="", cross_checks=[]),
            vault=ctx.vault, principal=team.officer1, clock=ctx.clock)
    assert free_at_commit == ([True] if postgres else [])
    with ctx.db.read() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.idx >= len(before))
                                  .order_by(AuditEntry.idx)).all()
        assert [(e.action, e.subject, e.county_code) for e in entries] == [
            ("case.record_check", case_id, COUNTY), ("registers.match", case_id, COUNTY)]
        assert json.loads(entries[1].entry)["payload"]["new_findings"] == {"vehicle:explain": 1}
        assert [f.kind for f in registers.case_findings(session, case_id)] == ["vehicle"]
    assert verify_log(ctx.db, [ctx.signer.verifier]).ok
