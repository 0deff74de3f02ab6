"""Two texts kept in clear again, now that the audit log holds only their SHA-256:

* recovery.waiver_confirm_note: the second county reviewer's words confirming a recovery's waiver (who and when are
  the recovery's `closed_by`, `closed_at`). A waiver confirmed before this revision has none: its audit entry holds the
  words' digest (or, written before the log kept digests, the words themselves), not this column.
* payment_batch_signoff: each county sign-off decision on a batch (refused or given), who, when and the opinion. The
  batch's `signoff_opinion` keeps the latest opinion only. The upgrade keeps what the batch's columns still know: its
  latest refusal (`signoff_refused_by`, `_at`) and its sign-off (`signed_off_by`, `_at`), the latest of the two with
  the batch's opinion; an earlier refusal's opinion, overwritten, stays NULL (unrecoverable from the rows), and a
  refusal before the latest is not known at all. Nothing is refused on upgrade.

The downgrade is refused while a confirming note, or an opinion other than a batch's latest, is on record (it would
be lost); otherwise it drops both (the batch's columns keep what they kept before).

Revision ID: 0059
Revises: 0057
Create Date: 2026-12-06
"""
import os

import sqlalchemy as sa
from alembic import op

revision = "0059"
down_revision = "0057"
branch_labels = None
depends_on = None
TABLE = "payment_batch_signoff"

# An opinion the downgrade would lose: one of a decision that is not its batch's latest.
EARLIER_OPINION = (f"SELECT count(*) FROM {TABLE} s WHERE s.opinion IS NOT NULL AND EXISTS (SELECT 1 FROM {TABLE} t "
                   "WHERE t.batch_id = s.batch_id AND (t.decided_at > s.decided_at "
                   "OR (t.decided_at = s.decided_at AND t.id > s.id)))")


def upgrade() -> None:
    with op.batch_alter_table("recovery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiver_confirm_note", sa.Text(), nullable=True))
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.CheckConstraint("decision IN ('given', 'refused')", name=op.f(f"ck_{TABLE}_known_decision")),
        sa.ForeignKeyConstraint(["batch_id"], ["payment_batch.id"], name=op.f(f"fk_{TABLE}_batch_id_payment_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_batch_id"), TABLE, ["batch_id"], unique=False)
    _backfill()


def _backfill() -> None:
    """Each batch's latest refusal and its sign-off, as its columns know them; the opinion goes with the later one."""
    bind = op.get_bind()
    batches = bind.execute(sa.text(
        "SELECT id, signoff_opinion, signoff_refused_by, signoff_refused_at, signed_off_by, signed_off_at "
        "FROM payment_batch WHERE signoff_refused_by IS NOT NULL OR signed_off_by IS NOT NULL")).all()
    rows = []
    for batch_id, opinion, refused_by, refused_at, given_by, given_at in batches:
        decisions = [(at, how, by) for how, by, at in (("refused", refused_by, refused_at), ("given", given_by, given_at))
                     if by is not None and at is not None]
        decisions.sort(key=lambda d: (d[0], d[1] == "given"))  # a sign-off follows the refusal it answered
        for n, (at, how, by) in enumerate(decisions):
            rows.append({"id": "pbs_" + os.urandom(16).hex(), "batch_id": batch_id, "decision": how,
                         "decided_by": by, "decided_at": at,
                         "opinion": opinion if n == len(decisions) - 1 else None})
    if rows:
        bind.execute(sa.text(f"INSERT INTO {TABLE} (id, batch_id, decision, decided_by, decided_at, opinion) "
                             "VALUES (:id, :batch_id, :decision, :decided_by, :decided_at, :opinion)"), rows)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM recovery WHERE waiver_confirm_note IS NOT NULL")).scalar():
        raise RuntimeError("有追回核销的确认意见（须保留）：不能降级")
    if bind.execute(sa.text(EARLIER_OPINION)).scalar():
        raise RuntimeError("有支付批次此前的县级签批意见（批次只保留最近一条，须保留）：不能降级")
    op.drop_index(op.f(f"ix_{TABLE}_batch_id"), table_name=TABLE)
    op.drop_table(TABLE)
    with op.batch_alter_table("recovery", schema=None) as batch_op:
        batch_op.drop_column("waiver_confirm_note")
