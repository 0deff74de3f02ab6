"""followup.setter_alone and the county reviewer's second look of it: a follow-up recorded by a setter of the payee
account because the county had no other field officer (`followups.receipt.Involved.alone`) is not final until a
county reviewer who took no part in paying the item confirms it (`alone_confirmed_by`, `alone_confirmed_at`) or
refuses it with a reason (`alone_refused_by`, `alone_refused_at`, `alone_refuse_reason`): a refused one is kept as it
was and the payment is due for a follow-up again

The unique constraint on payment_item_id becomes a unique index of the follow-ups not refused
(`uq_followup_payment_item_current`: one standing follow-up a payment), beside a plain index of payment_item_id. The
follow-ups whose `followup.record` entry says `setter_alone` are marked so and wait for the second look. The database
refuses a second look of a follow-up not recorded alone, by its recorder, both confirmed and refused, and a refusal
without a time or a reason. The downgrade is refused while one waits or a refused one exists.

A new table, `followup_assignment`: an insurer supervisor's assignment, with a reason, of a payment's follow-up to a
setter of its account (the county having no one else, or after the setter's follow-up was refused); the follow-up
that officer records (`followup_id`, which uses the assignment up) is a setter's and waits for the same second look. The database refuses an assignment to the
supervisor themselves. The downgrade drops the table while it is empty only.

Revision ID: 0065
Revises: 0064
Create Date: 2026-12-06
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0065"
down_revision = "0064"
branch_labels = None
depends_on = None
TABLE = "followup"
ALONE_CONFIRMED = ("(alone_confirmed_by IS NULL AND alone_confirmed_at IS NULL) OR (setter_alone"
                   " AND alone_confirmed_by IS NOT NULL AND alone_confirmed_at IS NOT NULL"
                   " AND alone_confirmed_by <> recorded_by AND alone_refused_by IS NULL)")
ALONE_REFUSED = ("(alone_refused_by IS NULL AND alone_refused_at IS NULL AND alone_refuse_reason IS NULL) OR"
                 " (setter_alone AND alone_refused_by IS NOT NULL AND alone_refused_at IS NOT NULL"
                 " AND alone_refuse_reason IS NOT NULL AND alone_refused_by <> recorded_by"
                 " AND alone_confirmed_by IS NULL)")
NOT_REFUSED = "alone_refused_at IS NULL"
WAITING = "setter_alone AND alone_confirmed_by IS NULL AND alone_refused_at IS NULL"
CURRENT = f"uq_{TABLE}_payment_item_current"
WAITING_INDEX = f"ix_{TABLE}_alone_waiting"


def _mark_alone(bind: sa.engine.Connection) -> None:
    """The follow-ups whose `followup.record` entry says `setter_alone` (its payload holds the key only then)."""
    alone = []
    for subject, entry in bind.execute(sa.text("SELECT subject, entry FROM audit_entry"
                                               " WHERE action = 'followup.record'")):
        if json.loads(bytes(entry).decode("utf-8")).get("payload", {}).get("setter_alone") is True:
            alone.append(subject)
    for at in range(0, len(alone), 500):
        bind.execute(sa.text(f"UPDATE {TABLE} SET setter_alone = true WHERE id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), {"ids": alone[at:at + 500]})


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("setter_alone", sa.Boolean(), nullable=False, server_default=sa.text("false")))
        batch_op.add_column(sa.Column("alone_confirmed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("alone_confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("alone_refused_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("alone_refused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("alone_refuse_reason", sa.Text(), nullable=True))
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_alone_confirmed"), ALONE_CONFIRMED)
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_alone_refused"), ALONE_REFUSED)
        batch_op.drop_constraint(op.f(f"uq_{TABLE}_payment_item_id"), type_="unique")
    op.create_index(op.f(f"ix_{TABLE}_payment_item_id"), TABLE, ["payment_item_id"], unique=False)
    op.create_index(CURRENT, TABLE, ["payment_item_id"], unique=True, postgresql_where=sa.text(NOT_REFUSED),
                    sqlite_where=sa.text(NOT_REFUSED))
    op.create_index(WAITING_INDEX, TABLE, ["county_code"], unique=False, postgresql_where=sa.text(WAITING),
                    sqlite_where=sa.text(WAITING))
    _mark_alone(op.get_bind())
    op.create_table(
        "followup_assignment",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_item_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("officer_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("assigned_by", sa.String(length=40), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followup_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint("officer_id <> assigned_by", name=op.f("ck_followup_assignment_not_oneself")),
        sa.ForeignKeyConstraint(["case_id"], ["relief_case.id"],
                                name=op.f("fk_followup_assignment_case_id_relief_case")),
        sa.ForeignKeyConstraint(["payment_item_id"], ["payment_item.id"],
                                name=op.f("fk_followup_assignment_payment_item_id_payment_item")),
        sa.ForeignKeyConstraint(["followup_id"], ["followup.id"],
                                name=op.f("fk_followup_assignment_followup_id_followup")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_assignment")),
        sa.UniqueConstraint("followup_id", name=op.f("uq_followup_assignment_followup_id")),
    )
    op.create_index(op.f("ix_followup_assignment_payment_item_id"), "followup_assignment", ["payment_item_id"],
                    unique=False)


def downgrade() -> None:
    # A follow-up waiting for its second look would read as final, and a refused one beside the one after it cannot be
    # kept under one follow-up a payment: refused, not deleted.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM followup_assignment")).scalar():
        raise RuntimeError("有主管指派的回访（指派记录须保留）：不能降级")
    if bind.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE {WAITING}")).scalar():
        raise RuntimeError("有登记收款账户的人员独自录入的回访待县级复核：复核后再降级")
    if bind.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE alone_refused_at IS NOT NULL")).scalar():
        raise RuntimeError("有被县级复核退回的回访（退回的回访须保留）：不能降级")
    op.drop_index(op.f("ix_followup_assignment_payment_item_id"), table_name="followup_assignment")
    op.drop_table("followup_assignment")
    op.drop_index(WAITING_INDEX, table_name=TABLE)
    op.drop_index(CURRENT, table_name=TABLE)
    op.drop_index(op.f(f"ix_{TABLE}_payment_item_id"), table_name=TABLE)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f(f"uq_{TABLE}_payment_item_id"), ["payment_item_id"])
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_alone_refused"), type_="check")
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_alone_confirmed"), type_="check")
        for column in ("alone_refuse_reason", "alone_refused_at", "alone_refused_by", "alone_confirmed_at",
                       "alone_confirmed_by", "setter_alone"):
            batch_op.drop_column(column)
