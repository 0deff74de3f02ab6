"""Two things kept in a note's text for want of a column get their column.

case_hold_proposal.withdrawn_by_side: who withdrew a proposal, 'insurer' (an insurer supervisor, cases/hold_proposals.py
`withdraw`) or 'county' (the county's re-check corrected, the hold withdrawn with it, or another round's deviation
joining the hold: sampling/consequences.py). Until now a supervisor's withdrawal was told by its `answer_note`
starting with "主管撤回："; the upgrade sets 'insurer' on those, the bare reason left in the note (the pages show it
beside 保险公司主管已撤回), and 'county' on every other withdrawn proposal. The database refuses a withdrawn proposal
without a side and a side on any other. The downgrade puts the prefix back before the notes of the supervisors'
withdrawals and drops the column.

visit_attempt.late_reason: why a visit without a check was recorded only now (补录原因). Until now it was kept after
the officers' note, on a line of its own starting "补录原因：" (or the whole note, when they wrote none); the upgrade
moves it to the column and leaves the note the officers wrote (NULL when they wrote none). A reason is always one
line (`late_entry.clean_reason`): a note whose last line starts with the marker is split there, any other is left as
it is. The downgrade puts the reason back on its line after the note and drops the column.

Revision ID: 0068
Revises: 0067
Create Date: 2026-12-07
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0068"
down_revision = "0067"
branch_labels = None
depends_on = None
PROPOSAL = "case_hold_proposal"
ATTEMPT = "visit_attempt"
SUPERVISOR_NOTE = "主管撤回："  # the start of a supervisor's withdrawal's note before this revision
LATE_REASON = "补录原因："  # the start of the late entry's line in an attempt's note before this revision
WITHDRAWN_SIDE = ("(status = 'withdrawn' AND withdrawn_by_side IS NOT NULL"
                  " AND withdrawn_by_side IN ('insurer', 'county'))"
                  " OR (status <> 'withdrawn' AND withdrawn_by_side IS NULL)")


def split_note(kept: str) -> tuple[str | None, str | None]:
    """An attempt's note as stored before this revision: the officers' note (None: none) and the late entry's reason
    (None: none given). The reason is the last line, after `LATE_REASON`, when it is there."""
    head, _, last = kept.rpartition("\n")
    if not last.startswith(LATE_REASON) or not last[len(LATE_REASON):].strip():
        return kept, None
    return head or None, last[len(LATE_REASON):]


def joined_note(note: str | None, reason: str) -> str:
    """The inverse of `split_note`: the reason on its line after the note."""
    return "\n".join(x for x in (note or "", LATE_REASON + reason) if x)


def _proposals_up(bind: Any) -> None:
    withdrawn = list(bind.execute(sa.text(f"SELECT id, answer_note FROM {PROPOSAL} WHERE status = 'withdrawn'")))
    insurer = [{"id": i, "note": n[len(SUPERVISOR_NOTE):]} for i, n in withdrawn
               if (n or "").startswith(SUPERVISOR_NOTE)]
    if insurer:
        bind.execute(sa.text(f"UPDATE {PROPOSAL} SET withdrawn_by_side = 'insurer', answer_note = :note"
                             " WHERE id = :id"), insurer)
    bind.execute(sa.text(f"UPDATE {PROPOSAL} SET withdrawn_by_side = 'county'"
                         " WHERE status = 'withdrawn' AND withdrawn_by_side IS NULL"))


def _attempts_up(bind: Any) -> None:
    moved = []
    for attempt_id, kept in bind.execute(sa.text(f"SELECT id, note FROM {ATTEMPT} WHERE note LIKE :marker"),
                                         {"marker": f"%{LATE_REASON}%"}):
        note, reason = split_note(kept)
        if reason is not None:
            moved.append({"id": attempt_id, "note": note, "reason": reason})
    if moved:
        bind.execute(sa.text(f"UPDATE {ATTEMPT} SET note = :note, late_reason = :reason WHERE id = :id"), moved)


def upgrade() -> None:
    with op.batch_alter_table(PROPOSAL, schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_by_side", sa.String(length=8), nullable=True))
    with op.batch_alter_table(ATTEMPT, schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_reason", sa.Text(), nullable=True))
    bind = op.get_bind()
    _proposals_up(bind)
    _attempts_up(bind)
    with op.batch_alter_table(PROPOSAL, schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(f"ck_{PROPOSAL}_withdrawn_by_a_side"), WITHDRAWN_SIDE)


def downgrade() -> None:
    bind = op.get_bind()
    back = [{"id": i, "note": joined_note(n, r)} for i, n, r in bind.execute(sa.text(
        f"SELECT id, note, late_reason FROM {ATTEMPT} WHERE late_reason IS NOT NULL"))]
    if back:
        bind.execute(sa.text(f"UPDATE {ATTEMPT} SET note = :note WHERE id = :id"), back)
    bind.execute(sa.text(f"UPDATE {PROPOSAL} SET answer_note = '{SUPERVISOR_NOTE}' || COALESCE(answer_note, '')"
                         " WHERE withdrawn_by_side = 'insurer'"))
    with op.batch_alter_table(ATTEMPT, schema=None) as batch_op:
        batch_op.drop_column("late_reason")
    with op.batch_alter_table(PROPOSAL, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{PROPOSAL}_withdrawn_by_a_side"), type_="check")
        batch_op.drop_column("withdrawn_by_side")
