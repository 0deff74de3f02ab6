"""Rows put into a database at an older revision by the migration tests, in the columns every revision since 0001
has (a contract, a household and its case; the case's check, determination and settled payment), and a downgrade."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from migration_cache import at_revision

from verifier.accounts.auth import Principal
from verifier.followups import receipt
from verifier.store.db import Database
from verifier.store.vault import Vault
from verifier.store.migrate import alembic_config, current_revision, head_revision, upgrade

NOW = "2020-06-01 02:00:00"


def insert_case(conn: Any, *, county: str, status: str) -> None:
    """Contract 'c', household 'hh_1' and its case 'case_1' in `county`, the case at `status`."""
    conn.execute(text("INSERT INTO contract (id, content_hash, title, county_codes, period_start, period_end, "
                      "budget, source, loaded_at) VALUES ('c', 'h', 't', :counties, '2020-01-01', "
                      "'2020-12-31', 0, '', :now)"), {"now": NOW, "counties": f'["{county}"]'})
    conn.execute(text("INSERT INTO household (id, county_code, town, village, household_group, head_name, "
                      "created_at) VALUES ('hh_1', :county, 't', 'v', 'low_income', 'h', :now)"),
                 {"now": NOW, "county": county})
    conn.execute(text("INSERT INTO relief_case (id, household_id, county_code, town, village, household_group, "
                      "cause, contract_id, contract_hash, contract_year, status, referred_on, reported_amount, "
                      "created_at, updated_at, version) VALUES ('case_1', 'hh_1', :county, 't', 'v', "
                      "'low_income', 'illness', 'c', 'h', 2020, :status, '2020-05-01', 0, :now, :now, 1)"),
                 {"now": NOW, "county": county, "status": status})


PAID_ITEM = [
    "INSERT INTO home_check (id, case_id, seq, visited_on, officer_ids, members, member_count, wages, business_net, "
    "property_net, transfer_net, productive_costs, medical_self_paid, schooling, disaster_loss, stable_income, "
    "cross_checks, evidence, recorded_by, recorded_at) VALUES ('chk_1', 'case_1', 1, '2020-05-10', '[]', '[]', 1, "
    "0, 0, 0, 0, 0, 0, 0, 0, false, '[]', '[]', 'u', :now)",
    "INSERT INTO determination (id, case_id, check_id, eligible, rule, reason, per_capita_income, basis, "
    "already_paid, relief, breakdown, capped, contract_hash, confirmed_by, confirmed_at) VALUES ('det_1', 'case_1', "
    "'chk_1', true, 'income', '', 0, 0, 0, 100000, '[]', false, 'h', 's', :now)",
    "INSERT INTO payment_batch (id, code, county_code, contract_id, contract_hash, status, item_count, total, "
    "items_sha256, signoff_required, prepared_by, prepared_at, updated_at) VALUES ('pb_1', 'B1', '340223', 'c', 'h', "
    "'reconciled', 1, 100000, 'x', false, 'p', :now, :now)",
    "INSERT INTO payment_item (id, batch_id, seq, reference, case_id, determination_id, amount, payee_name, "
    "payee_bank, payee_check_id, status, created_at, settled_at) VALUES ('pi_1', 'pb_1', 1, 'B1-1', 'case_1', "
    "'det_1', 100000, 'h', '农村商业银行', 'chk_1', 'succeeded', :now, :now)",
]
"""After `insert_case` (status paid): check 'chk_1', determination 'det_1', batch 'pb_1' and its settled item 'pi_1'
(100,000 fen), in the columns of revision 0050 (statements with `:now`)."""

# The paid item's follow-up (at a revision that asks whether the money arrived): the household says it got none.
NOT_RECEIVED = (
    "INSERT INTO followup (id, case_id, payment_item_id, county_code, due_on, done_on, method, income_change, "
    "risk_remains, satisfaction, new_needs, received, received_amount, recorded_by, recorded_at) VALUES ('fup_1', "
    "'case_1', 'pi_1', '340223', '2020-07-01', '2020-06-20', 'phone', 'same', false, 'satisfied', '[]', 'no', 0, "
    "'o', :now)"
)

MISDIRECTED = [
    *PAID_ITEM,
    NOT_RECEIVED,
    "INSERT INTO recovery (id, case_id, round_id, county_code, contract_id, amount, repaid, status, paid_amount, "
    "due_amount, opened_by, opened_at) VALUES ('rcv_1', 'case_1', NULL, '340223', 'c', 100000, 0, 'open', 100000, 0, "
    "'r', :now)",
    "INSERT INTO supplementary_payment (id, case_id, round_id, county_code, contract_id, determination_id, amount, "
    "status, opened_by, opened_at) VALUES ('sup_1', 'case_1', NULL, '340223', 'c', 'det_1', 100000, 'open', 'r', :now)",
    "INSERT INTO followup_receipt_review (id, followup_id, case_id, county_code, note, outcome, recovery_id, "
    "supplement_id, resolved_by, resolved_at) VALUES ('frr_1', 'fup_1', 'case_1', '340223', '钱进了别人的卡', "
    "'misdirected', 'rcv_1', 'sup_1', 'r', :now)",
]
"""After `insert_case` (status paid), at revision 0053 or later: the paid item (`PAID_ITEM`), its follow-up where
nothing arrived (`NOT_RECEIVED`), and reviewer 'r''s 核实未收到 closing 'frr_1' with its recovery 'rcv_1' and
supplement 'sup_1'."""


def upgraded_with(db: Database, before: str, rows: list[str], *, status: str = "paid",
                  entries: list[dict[str, Any]] | None = None) -> None:
    """The opening of a migration's test with data: `db` at revision 0011 with one case (`insert_case`, at `status`),
    upgraded to `before` (the revision before the one tested), `rows` inserted there (statements with `:now`) and
    the audit `entries` (`logged`), then upgraded to the head."""
    def one_case(db: Database) -> None:
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status=status)

    at_revision(db, before, chain=f"case-{status}", seed=one_case, seed_at="0011")
    with db.engine.begin() as conn:
        for row in rows:
            conn.execute(text(row), {"now": NOW})
        for values in entries or []:
            conn.execute(text(LOGGED), values)
    upgrade(db)
    assert current_revision(db) == head_revision()


def downgrade(db: Database, revision: str) -> None:
    """Alembic's downgrade to `revision`, on SQLite with foreign keys off as `upgrade` has them."""
    cfg = alembic_config()
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # as `upgrade` does: SQLite copies the altered table
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, revision)
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


REVIEWER = Principal(id="usr_rev", username="rev", display_name="rev", roles=("county_reviewer",), counties=())
"""A county reviewer of every county, who reads the alerts."""
NEXT_CLOSING = ("INSERT INTO followup_receipt_review (id, followup_id, case_id, county_code, note, outcome, "
                "resolved_by, resolved_at) VALUES (:id, 'fup_1', 'case_1', '340223', '重新核实', 'received', 'r2', "
                "'2020-06-02 02:00:00')")
"""Another 核实已收到 closing of the kit's follow-up, by another reviewer a day later."""


def open_alerts(db: Database, shown: str) -> tuple[int, list[str]]:
    """The home count of open alerts, and the open list's follow-ups each with how many closings it shows under
    `shown` (returned, withdrawn)."""
    with Session(db.engine) as session:
        alerts, _ = receipt.alerts(session, REVIEWER, Vault(os.urandom(32), os.urandom(32)), status="open")
        return receipt.open_count(session, REVIEWER), [f"{a.followup_id}:{len(getattr(a, shown))}" for a in alerts]


def refused(db: Database, statement: str, **params: str) -> None:
    """The database refuses `statement` (a check or a unique index)."""
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text(statement), params)


LOGGED = ("INSERT INTO audit_entry (idx, time, actor, role, action, subject, contract_hash, entry, leaf_hash, "
          "county_code) VALUES (:idx, :time, :actor, 'county_reviewer', :action, :subject, 'h', :entry, :leaf, "
          "'340223')")
"""An audit entry as `logged` gives its values (for `upgraded_with`'s `entries`)."""


def logged(idx: int, action: str, subject: str, actor: str, time: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The values of an audit entry of `action` on `subject` whose bytes hold `payload` as the log's JSON does (not a
    verifiable entry: the migrations read only its payload)."""
    entry = json.dumps({"payload": payload}, ensure_ascii=False).encode("utf-8")
    return {"idx": idx, "time": time, "actor": actor, "action": action, "subject": subject, "entry": entry,
            "leaf": bytes(32)}


SIGNOFF_HISTORY = [
    *PAID_ITEM,
    # 'pb_1' refused by 'rv1' twice (the first opinion logged in clear, before the log kept digests; the second by its
    # digest only), then signed off by 'rv2' (its opinion the batch's latest, logged by digest)
    "UPDATE payment_batch SET signoff_required = true, signoff_opinion = '同意发放', signoff_refused_by = 'rv1', "
    "signoff_refused_at = '2020-06-01 03:00:00', signed_off_by = 'rv2', signed_off_at = '2020-06-01 04:00:00' "
    "WHERE id = 'pb_1'",
    # 'pb_2', refused once, whose decision the log does not name: known from its columns alone
    "INSERT INTO payment_batch (id, code, county_code, contract_id, contract_hash, status, item_count, total, "
    "items_sha256, signoff_required, prepared_by, prepared_at, updated_at, signoff_opinion, signoff_refused_by, "
    "signoff_refused_at) VALUES ('pb_2', 'B2', '340223', 'c', 'h', 'prepared', 0, 0, 'x', true, 'p', :now, :now, "
    "'请补充票据', 'rv1', '2020-06-01 05:00:00')",
    # 'rcv_2' and 'rcv_3' waived: the first's confirming words logged in clear, the second's by digest only
    "INSERT INTO recovery (id, case_id, round_id, county_code, contract_id, amount, repaid, status, paid_amount, "
    "due_amount, opened_by, opened_at, closed_by, closed_at, waive_reason, waiver_requested_by, waiver_requested_at) "
    "VALUES ('rcv_2', 'case_1', NULL, '340223', 'c', 100, 0, 'waived', 100, 0, 'r', :now, 'rv2', :now, '无力偿还', "
    "'rv1', :now)",
    "INSERT INTO recovery (id, case_id, round_id, county_code, contract_id, amount, repaid, status, paid_amount, "
    "due_amount, opened_by, opened_at, closed_by, closed_at, waive_reason, waiver_requested_by, waiver_requested_at) "
    "VALUES ('rcv_3', 'case_1', NULL, '340223', 'c', 100, 0, 'waived', 100, 0, 'r', :now, 'rv2', :now, '无力偿还', "
    "'rv1', :now)",
]
"""After `insert_case` (status paid), at revision 0053 or later: the paid item (`PAID_ITEM`) whose batch 'pb_1' was
refused and then signed off, batch 'pb_2' refused, and recoveries 'rcv_2' and 'rcv_3' waived; `SIGNOFF_LOG` their
entries."""

SIGNOFF_LOG = [
    logged(1, "payment_batch.signoff_refused", "pb_1", "rv1", "2020-06-01 02:30:00", {"opinion": "票据不全"}),
    logged(2, "payment_batch.signoff_refused", "pb_1", "rv1", "2020-06-01 03:00:00",
           {"opinion_sha256": hashlib.sha256("金额有误".encode()).hexdigest()}),
    logged(3, "payment_batch.county_signoff", "pb_1", "rv2", "2020-06-01 04:00:00",
           {"opinion_sha256": hashlib.sha256("同意发放".encode()).hexdigest()}),
    logged(4, "recovery.waived", "rcv_2", "rv2", NOW, {"confirmation": "已核实，同意核销"}),
    logged(5, "recovery.waived", "rcv_3", "rv2", NOW,
           {"confirmation_sha256": hashlib.sha256("同意".encode()).hexdigest()}),
]
"""The audit entries of `SIGNOFF_HISTORY`'s decisions (the JSON of their payload; not a verifiable log)."""
