"""Migration 0044: a notice confirmed without a photo that counted keeps that as it was decided
(`notice.posting_without_dated_photo`), taken for notices confirmed before from their `notice.posting_confirm`
audit entry; which photos count may change later without re-labelling confirmations already given."""

from __future__ import annotations

import json

from migration_cache import at_revision
from migration_rows import NOW, insert_case
from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

BEFORE = "0043"


def _notice(conn, notice_id: str, sha: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(text(
        "INSERT INTO notice (id, county_code, town, village, scope, contract_id, contract_hash, posted_on, "
        "ends_on, status, title, issuing_body, county_name, objection_place, objection_phone, mask_names, "
        "households, persons, total, document, document_sha256, posted_by, posted_at, posting_needs_confirmation, "
        "posting_confirmed_by, posting_confirmed_at, posting_note) VALUES (:id, '340223', 't', 'v', 'village', 'c', "
        "'h', '2020-06-01', '2020-06-08', 'open', '公示', '镇政府', '县', '镇政府', '12317', false, 1, 1, 100, :doc, "
        ":sha, 'clerk', :now, true, 'reviewer', :now, '村委会书面说明')"),
        {"id": notice_id, "now": NOW, "doc": b"PK", "sha": sha})


def _confirmed(conn, idx: int, notice_id: str, payload: dict) -> None:  # type: ignore[no-untyped-def]
    entry = json.dumps({"action": "notice.posting_confirm", "subject": notice_id, "payload": payload}).encode()
    conn.execute(text(
        "INSERT INTO audit_entry (idx, time, actor, role, action, subject, contract_hash, entry, leaf_hash, "
        "county_code) VALUES (:idx, :now, 'reviewer', 'county_reviewer', 'notice.posting_confirm', :subject, 'h', "
        ":entry, :leaf, '340223')"),
        {"idx": idx, "now": NOW, "subject": notice_id, "entry": entry, "leaf": bytes([idx]) * 32})


def test_confirmations_given_before_keep_what_was_decided(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0011")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="ready_to_pay")  # its contract 'c'
        upgrade(db, BEFORE)
        with db.engine.begin() as conn:
            _notice(conn, "ntc_undated", "1" * 64)
            _notice(conn, "ntc_dated", "2" * 64)
            _notice(conn, "ntc_waiting", "3" * 64)
            conn.execute(text("UPDATE notice SET posting_confirmed_by = NULL, posting_confirmed_at = NULL "
                              "WHERE id = 'ntc_waiting'"))
            _confirmed(conn, 0, "ntc_undated", {"posted_by": "clerk", "photos": [], "photos_in_period": [],
                                                "without_dated_photo": True})
            _confirmed(conn, 1, "ntc_dated", {"posted_by": "clerk", "photos": ["a" * 64],
                                              "photos_in_period": ["a" * 64]})
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, posting_without_dated_photo FROM notice ORDER BY id")).all()
        assert [(r[0], bool(r[1])) for r in rows] == [("ntc_dated", False), ("ntc_undated", True),
                                                      ("ntc_waiting", False)]
    finally:
        db.dispose()
