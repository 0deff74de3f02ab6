"""member.added_by_check_id: the home check that added a member or last changed their name.

Until that check's determination is confirmed (by a supervisor who neither made nor recorded it), such a name is not
on record for payment: not a payee at the door of any check, and a payee change to it needs a reason and a county
reviewer; for the case of that check itself it stays so (checks/on_record.py).

The upgrade fills the column for the members stored before, from what has always been stored: a referral (or an
application) creates only the head member, with the referral's ID number (`referral.id_number_bidx`), and every home
check lists each member by `member_id` with the name it recorded (`home_check.members`). For each member, the checks
listing them are read in the order they were recorded (`recorded_at`, then `id`):
- a member whose ID number is that of a referral of one of their household's cases, made (`created_at`) before the
  first check listing them was recorded, was brought by the referral (the name it gave them, its earliest such one,
  is the first name); any other member gets the first check listing them (an application made later for a member a
  check added lands on their household: it names that member, it did not bring them);
- each later check listing them under another name (spaces aside) takes it over: the name is that check's word.
A member no check lists keeps NULL. In-flight members a check added or renamed are thus not payable until that
check's determination is confirmed, as the checks recorded after this revision.

The downgrade drops the column: the older code asks nothing of it, and a later upgrade computes every value again
from the same rows (the new code writes the column by the same rule), so nothing is lost.

Revision ID: 0063
Revises: 0062
Create Date: 2026-12-06
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0063"
down_revision = "0062"
branch_labels = None
depends_on = None


def _name(value: Any) -> str:
    return "".join(str(value or "").split())


def _listed(value: Any) -> list[dict[str, Any]]:
    items = json.loads(value) if isinstance(value, (str, bytes)) else value
    return [m for m in (items or []) if isinstance(m, dict)]


def _moment(value: Any) -> datetime:
    """A stored moment as an aware UTC datetime (SQLite gives back the UTC text it keeps, PostgreSQL a datetime)."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def added_by(conn: Any) -> dict[str, str]:
    """The check each member stored is tied to (members brought by a referral and never renamed are left out)."""
    checks = "SELECT id, recorded_at, members FROM home_check ORDER BY recorded_at, id"
    first_listed: dict[str, datetime] = {}  # member id -> when the first check listing them was recorded
    for _, at, members in conn.execute(sa.text(checks)):
        for m in _listed(members):
            first_listed.setdefault(str(m.get("member_id") or ""), _moment(at))
    # A referral (or an application, which lands on the household of the member its ID number names) is the
    # member's source only when it came before any check listed them: a later one names a member a check added.
    referred: dict[str, str] = {}  # member id -> the name its earliest such referral gave
    for member_id, name, created_at in conn.execute(sa.text(
            "SELECT m.id, r.name, r.created_at FROM member m JOIN relief_case c ON c.household_id = m.household_id "
            "JOIN referral r ON r.case_id = c.id AND r.id_number_bidx = m.id_number_bidx "
            "ORDER BY r.created_at DESC, r.id DESC")):
        listed_at = first_listed.get(member_id)
        if listed_at is None or _moment(created_at) < listed_at:
            referred[member_id] = name
    last: dict[str, tuple[str, str | None]] = {m: (_name(n), None) for m, n in referred.items()}
    for check_id, _, members in conn.execute(sa.text(checks)):
        for m in _listed(members):
            member_id, name = str(m.get("member_id") or ""), _name(m.get("name"))
            if not member_id:
                continue
            seen = last.get(member_id)
            if seen is None or seen[0] != name:
                last[member_id] = (name, check_id)
    return {m: check for m, (_, check) in last.items() if check is not None}


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("added_by_check_id", sa.String(length=40), nullable=True))
    conn = op.get_bind()
    known = {r[0] for r in conn.execute(sa.text("SELECT id FROM member"))}
    ties = [{"m": m, "c": c} for m, c in sorted(added_by(conn).items()) if m in known]
    if ties:
        conn.execute(sa.text("UPDATE member SET added_by_check_id = :c WHERE id = :m"), ties)


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("added_by_check_id")
