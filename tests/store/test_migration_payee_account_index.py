"""Migration 0045: the payee accounts sealed before it get their blind index, opened with the deployment's Vault
(what `verifier init` hands the migration); a value that does not open, or an upgrade without a Vault, leaves it
NULL (that row is not compared)."""

from __future__ import annotations

import os

import pytest
from migration_cache import at_revision
from migration_rows import NOW, insert_case
from sqlalchemy import text

from verifier.payments.one_account import account_index
from verifier.store.db import Database
from verifier.store.migrate import upgrade
from verifier.store.vault import Vault

CHECK = ("INSERT INTO home_check (id, case_id, seq, visited_on, officer_ids, members, member_count, wages, "
         "business_net, property_net, transfer_net, productive_costs, medical_self_paid, schooling, disaster_loss, "
         "stable_income, cross_checks, evidence, recorded_by, recorded_at, payee_name, payee_bank, payee_account_enc) "
         "VALUES (:id, 'case_1', :seq, '2020-05-10', '[]', '[]', 1, 0, 0, 0, 0, 0, 0, 0, 0, false, '[]', '[]', 'u', "
         ":now, 'h', '农村商业银行', :enc)")
CHANGE = ("INSERT INTO payee_correction (id, case_id, status, account_name, bank, account_number_enc, "
          "name_in_household, requested_by, requested_role, requested_at, decided_by, decided_role, decided_at) "
          "VALUES ('pc_1', 'case_1', 'approved', 'h', '工商银行', :enc, true, 'a', 'finance', :now, 'b', 'finance', "
          ":now)")


@pytest.mark.parametrize("with_vault", [True, False])
def test_sealed_accounts_get_their_index(database_url: str, with_vault: bool) -> None:
    vault = Vault(os.urandom(32), os.urandom(32))
    db = Database(database_url)
    try:
        at_revision(db, "0011")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="ready_to_pay")
        upgrade(db, "0044")
        with db.engine.begin() as conn:
            conn.execute(text(CHECK), {"id": "chk_1", "seq": 1, "now": NOW,
                                       "enc": vault.seal("6222020200112233445", "check.payee_account")})
            conn.execute(text(CHECK), {"id": "chk_2", "seq": 2, "now": NOW, "enc": b"\x00" * 40})  # does not open
            conn.execute(text(CHANGE), {"now": NOW,
                                        "enc": vault.seal("6217 0000 1111 2222", "payee_correction.account_number")})
        upgrade(db, vault=vault if with_vault else None)
        with db.engine.connect() as conn:
            checks = dict(conn.execute(text("SELECT id, payee_account_index FROM home_check")).all())
            change = conn.execute(text("SELECT account_index FROM payee_correction")).scalar()
        if with_vault:
            assert checks == {"chk_1": account_index(vault, "6222020200112233445"), "chk_2": None}
            assert change == account_index(vault, "6217000011112222") != checks["chk_1"]
        else:
            assert checks == {"chk_1": None, "chk_2": None} and change is None
    finally:
        db.dispose()
