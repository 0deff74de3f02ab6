"""Migration 0014: payee corrections recorded before changes needed approval stay paid, as approved changes."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text

from migration_cache import at_revision
from verifier.store.db import Database
from verifier.store.migrate import upgrade


def test_earlier_corrections_become_approved_changes_by_whoever_made_them(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0002")
        # The row alone (no case behind it): foreign keys are not what this test is about.
        insert = ("INSERT INTO payee_correction (id, case_id, failed_item_id, account_name, bank, account_number_enc, "
                  "corrected_by, corrected_at) VALUES ('pc_old', 'case_x', NULL, '王秀英', '农业银行', {enc}, "
                  "'usr_fin', '2020-06-01 02:00:00.000000')")
        # A payment item paid to it: the migration must keep the row the item points at (SQLite refuses to drop a
        # table whose rows items refer to, so it must not be rebuilt).
        item = ("INSERT INTO payment_item (id, batch_id, seq, reference, case_id, determination_id, amount, payee_name, "
                "payee_bank, payee_check_id, payee_correction_id, status, created_at) VALUES ('pi_1', 'pb_1', 1, "
                "'P1000001', 'case_x', 'det_1', 100, '王秀英', '农业银行', NULL, 'pc_old', 'succeeded', "
                "'2020-06-02 02:00:00+00')")
        if database_url.startswith("sqlite"):
            raw = sqlite3.connect(database_url.removeprefix("sqlite:///"))
            raw.execute(insert.format(enc="x'00'"))
            raw.execute(item)
            raw.commit()
            raw.close()
        else:
            with db.engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text(insert.format(enc="'\\x00'::bytea").replace("02:00:00.000000", "02:00:00+00")))
                conn.execute(text(item))
        upgrade(db)
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT status, requested_by, decided_by, decided_role, requested_role, "
                                    "name_in_household, decided_at = requested_at FROM payee_correction")).one()
            items = conn.execute(text("SELECT count(*) FROM payment_item i JOIN payee_correction c "
                                      "ON c.id = i.payee_correction_id")).scalar()
        assert items == 1
        assert tuple(row) == ("approved", "usr_fin", "usr_fin", "insurer_supervisor", "insurer_supervisor", True,
                              True)
    finally:
        db.dispose()
