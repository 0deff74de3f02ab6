"""Who may approve or sign off a batch (`deciders.refusals`, asked by the home cards 待审批批次 and 待县级签批批次 on
every load) reads only the waiting batches' cases' payee changes and later checks: as many statements, as many rows
and as much work whether or not other counties hold thousands of changes and re-checks. A later check's payee is
compared with the first check's by blind index, and an account stored without one (before migration 0045, not
filled) is opened from that row alone: the refusal, the card and the batch's page agree on it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from payment_helpers import add_contract, change_payee, seed_ready_cases, tx
from sqlalchemy import event, select, update

from verifier.accounts.auth import Principal
from verifier.payments import batch_list, deciders, payees, service
from verifier.payments.models import PayeeCorrection, PaymentBatch
from verifier.payments.one_account import account_index
from verifier.store.base import new_id
from verifier.store.tables import Check

OTHER_ACCOUNT = "6212260000000077777"
OFFICER = "u_recheck_officer"
ELSEWHERE_ACCOUNT = "6212260000000066666"
SETTER = "入户核查的录入人，本批次支付给该案的收款账户由这次核查录入"


def _who(county: str, name: str, *roles: str) -> Principal:
    return Principal(id=f"u_{name}", username=name, display_name=name, roles=roles, counties=(county,))


def _later_check(ctx: Any, case_id: str, account: str | None, *, indexed: bool = True) -> str:
    """A second check of the case recorded by OFFICER, naming the first check's payee by name and bank with `account`
    (None: the first check's own account, sealed again)."""
    with ctx.db.begin() as session:
        first = session.scalar(select(Check).where(Check.case_id == case_id, Check.seq == 1))
        number = account or ctx.vault.open(first.payee_account_enc, payees.CHECK_ACCOUNT_COLUMN)
        row = {c.key: getattr(first, c.key) for c in Check.__table__.columns}
        row.update(id=new_id("chk"), seq=2, recorded_by=OFFICER,
                   payee_account_enc=ctx.vault.seal(number, payees.CHECK_ACCOUNT_COLUMN),
                   payee_account_index=account_index(ctx.vault, number) if indexed else None)
        session.add(Check(**row))
    return row["id"]


def _scene(ctx: Any) -> dict[str, Any]:
    """County A: batch X pays a case whose payee an approved change set and a case whose re-check named another
    account; batch Y pays a case re-checked with the same account. The first checks carry no blind index (seeded as
    rows stored before 0045)."""
    contract = add_contract(ctx)
    county = contract.county_codes[0]
    changed, steered, same = seed_ready_cases(ctx.db, ctx.vault, contract, 3, clock=ctx.clock, seed=7)
    with ctx.db.read() as session:
        head = session.scalar(select(Check.payee_name).where(Check.case_id == changed))
    change_payee(ctx, changed, requester=_who(county, "sup", "insurer_supervisor"),
                 approver=_who(county, "rev", "county_reviewer"), account_name=head, bank="农业银行",
                 account_number="6228480012345678", reason="户主更换了银行卡")
    _later_check(ctx, steered, OTHER_ACCOUNT)
    _later_check(ctx, same, None)
    claims = _who(county, "claims", "insurer_claims")
    x = tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=contract.id, principal=claims,
                                               clock=ctx.clock, case_ids=[changed, steered]))
    y = tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=contract.id, principal=claims,
                                               clock=ctx.clock, case_ids=[same]))
    return {"county": county, "changed": changed, "steered": steered, "same": same, "x": x.id, "y": y.id}


def _grow_elsewhere(ctx: Any, n: int) -> None:
    """Another county's `n` cases, each with an approved payee change and a later check naming another payee."""
    contract = add_contract(ctx)
    county = contract.county_codes[0]
    cases = seed_ready_cases(ctx.db, ctx.vault, contract, n, clock=ctx.clock, seed=11)
    sealed = ctx.vault.seal(ELSEWHERE_ACCOUNT, payees.CORRECTION_ACCOUNT_COLUMN)
    now = ctx.clock.now()
    with ctx.db.begin() as session:
        session.add_all(PayeeCorrection(
            id=new_id("pc"), case_id=case_id, status="approved", account_name="他人", bank="农业银行",
            account_number_enc=sealed, account_index=account_index(ctx.vault, ELSEWHERE_ACCOUNT),
            name_in_household=False,
            reason="另一县", requested_by="u_elsewhere1", requested_role="finance", requested_at=now,
            decided_by="u_elsewhere2", decided_role="county_reviewer", decided_at=now) for case_id in cases)
    for case_id in cases:
        _later_check(ctx, case_id, ELSEWHERE_ACCOUNT)
    assert county


def _work(ctx: Any, ask: Callable[[Any], Any]) -> tuple[Any, list[tuple[str, int, int, list[str]]]]:
    """What `ask(session)` answers, and per SELECT it sends: (its text, the rows it returns, the work it does, the
    tables it reads whole). The work: on SQLite the virtual machine's steps (a table grown elsewhere may add a step
    or two to a seek, a deeper tree, never one per row); on PostgreSQL the rows its plan's scans touch, sequential
    scans off (a whole read then shows)."""
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(ctx.db.read_engine, "before_cursor_execute", record)
    try:
        with ctx.db.read() as session:
            answer = ask(session)
    finally:
        event.remove(ctx.db.read_engine, "before_cursor_execute", record)
    out = []
    with ctx.db.read_engine.connect() as conn:
        if ctx.db.is_sqlite:
            raw = conn.connection.dbapi_connection
            for statement, parameters in seen:
                steps = [0]

                def step() -> int:
                    steps[0] += 1
                    return 0

                raw.set_progress_handler(step, 1)
                try:
                    rows = len(conn.exec_driver_sql(statement, parameters).all())
                finally:
                    raw.set_progress_handler(None, 1)
                plan = [str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                whole = [p for p in plan if p.startswith("SCAN ") and "USING" not in p]
                out.append((statement, rows, steps[0], whole))
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            for statement, parameters in seen:
                rows = len(conn.exec_driver_sql(statement, parameters).all())
                raw = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar_one()
                plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
                out.append((statement, rows, _touched(plan), _seq_scans(plan)))
        conn.rollback()
    return answer, out


def _touched(plan: dict[str, Any]) -> int:
    here = 0
    if "Relation Name" in plan or "Index Name" in plan:
        here = ((plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
                 + plan.get("Rows Removed by Index Recheck", 0)) * plan.get("Actual Loops", 1))
    return int(here + sum(_touched(child) for child in plan.get("Plans", [])))


def _seq_scans(plan: dict[str, Any]) -> list[str]:
    here = [plan["Relation Name"]] if plan["Node Type"] == "Seq Scan" else []
    return here + [name for child in plan.get("Plans", []) for name in _seq_scans(child)]


def test_the_cards_read_as_much_whatever_other_counties_hold(ctx) -> None:  # type: ignore[no-untyped-def]
    scene = _scene(ctx)
    finance = _who(scene["county"], "fin", "finance")

    def ask(session: Any) -> Any:
        waiting = batch_list.waiting(session, finance, "approve", ctx.vault, ctx.clock.today())
        return waiting.mine, waiting.others, {b: sorted((h.case_id, h.change, h.first) for h in hs) for b, hs in
                                              payees.payee_hands_of(session, [scene["x"], scene["y"]],
                                                                    ctx.vault).items()}

    before, read_before = _work(ctx, ask)
    assert before[0] == sorted([scene["x"], scene["y"]]) and before[1] == 0
    assert before[2] == {scene["x"]: sorted([(scene["changed"], True, "u_sup"),
                                            (scene["steered"], False, OFFICER)])}
    _grow_elsewhere(ctx, 40)
    after, read_after = _work(ctx, ask)
    assert after == before
    # the same statements, each returning as many rows and reading none of the tables whole
    assert [(len(s), rows) for s, rows, _, _ in read_after] == [(len(s), rows) for s, rows, _, _ in read_before]
    assert [whole for *_, whole in read_before + read_after if whole] == []
    # and doing as much, on SQLite (a step more at most where a table's tree grew). On PostgreSQL the planner of a
    # test database of a few dozen rows picks among the indexes by statistics it may not have: the plans on data of
    # a county's size are held by tests/store/test_query_plans.py (the cases' indexes, nothing read whole)
    if not ctx.db.is_sqlite:
        return
    slack = 2
    for (sql, _, work, _), (_, _, grown, _) in zip(read_before, read_after):
        assert work <= grown <= work + slack, (work, grown, sql)


def test_a_first_check_stored_without_its_index_is_opened_and_compared(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The first checks here have no blind index: the re-check naming the same account is no changed payee for the
    refusal, the card nor the batch's page (its recorder, who typed the account again, is refused as the account's
    setter, `account_setters`, not as a payee's changer); the one naming another account is, for all three. Only the
    rows without an index are opened, once each comparison."""
    scene = _scene(ctx)
    county = scene["county"]
    officer = Principal(id=OFFICER, username="officer", display_name="officer", roles=("finance",),
                        counties=(county,))
    opened: list[str] = []
    real_open = ctx.vault.open

    def spy(sealed: bytes, column: str) -> str:
        opened.append(column)
        return real_open(sealed, column)

    monkeypatch.setattr(ctx.vault, "open", spy)
    with ctx.db.read() as session:
        waiting = batch_list.waiting(session, officer, "approve", ctx.vault, ctx.clock.today())
        batches = {b.id: b for b in session.scalars(select(PaymentBatch).where(
            PaymentBatch.id.in_([scene["x"], scene["y"]])))}
        refused = deciders.refusals(session, list(batches.values()), officer, "approve", ctx.vault)
    assert waiting.mine == [] and waiting.others == 2
    assert SETTER in refused[scene["y"]].text() and "重新核查" not in refused[scene["y"]].text()
    assert f"案件 {scene['steered']} 的重新核查" in refused[scene["x"]].text()
    # two first checks without an index met a later check of the same name and bank, once per asking, and again
    # when the account's setters compare them with the later check paid (`account_setters`), once per asking
    assert opened == [payees.CHECK_ACCOUNT_COLUMN] * 8
    monkeypatch.setattr(ctx.vault, "open", real_open)
    with ctx.db.read() as session:
        listed = {b: [(c.case_id, c.source) for c in payees.changed_items(session, b, ctx.vault)]
                  for b in (scene["x"], scene["y"])}
    assert listed == {scene["x"]: [(scene["changed"], "change"), (scene["steered"], "check")], scene["y"]: []}
    # the approval refuses both, as the card counts; another finance officer takes the one the re-check left alone
    for batch in (scene["x"], scene["y"]):
        refused_x = None
        try:
            tx(ctx, lambda s: service.approve(s, batch, principal=officer, vault=ctx.vault, clock=ctx.clock))
        except Exception as exc:  # noqa: BLE001 - the refusal's type is asserted below
            refused_x = exc
        assert type(refused_x).__name__ == "Forbidden", refused_x
    other = _who(county, "fin_other", "finance")
    tx(ctx, lambda s: service.approve(s, scene["y"], principal=other, vault=ctx.vault, clock=ctx.clock))


def test_the_same_answer_with_the_index_filled(ctx) -> None:  # type: ignore[no-untyped-def]
    """With the first checks' indexes filled (as 0045 does with the keys), nothing is opened and the answers are the
    same."""
    scene = _scene(ctx)
    with ctx.db.begin() as session:
        for check in session.scalars(select(Check).where(Check.payee_account_index.is_(None),
                                                         Check.payee_account_enc.is_not(None))):
            session.execute(update(Check).where(Check.id == check.id).values(payee_account_index=account_index(
                ctx.vault, ctx.vault.open(check.payee_account_enc, payees.CHECK_ACCOUNT_COLUMN))))
    officer = Principal(id=OFFICER, username="officer", display_name="officer", roles=("finance",),
                        counties=(scene["county"],))
    with ctx.db.read() as session:
        assert batch_list.waiting(session, officer, "approve", ctx.vault, ctx.clock.today()).mine == []
        batch = session.get(PaymentBatch, scene["y"])
        said = deciders.refusals(session, [batch], officer, "approve", ctx.vault)[scene["y"]]
        assert said is not None and SETTER in said.text() and "重新核查" not in said.text()
        assert [c.case_id for c in payees.changed_items(session, scene["y"], ctx.vault)] == []
