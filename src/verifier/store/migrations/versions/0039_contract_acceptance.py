"""contract: a county's acceptance (待县审核确认) before a loaded contract prices anything

`contract.status` is `pending` for a contract loaded from now on, until a county reviewer of each county it covers
accepts it (`accepted`), or `refused` when one refuses it; `contract_decision` holds each county's answer. Contracts
already loaded were in force before this control existed: they are marked `accepted`, each county's answer recorded as
`before_control` (no reviewer, dated when the contract was loaded), and shown as such on the contracts page.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="pending", nullable=False))
    op.execute("UPDATE contract SET status = 'accepted'")  # every contract loaded so far: before the control
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_contract_status_known"),
                                         "status IN ('pending', 'accepted', 'refused')")
    decision = op.create_table(
        "contract_decision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(length=64), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("decision IN ('accepted', 'refused', 'before_control')",
                           name=op.f("ck_contract_decision_decision_known")),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"], name=op.f("fk_contract_decision_contract_id_contract")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_decision")),
        sa.UniqueConstraint("contract_id", "county_code", name="uq_contract_decision_county"),
    )
    with op.batch_alter_table("contract_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_decision_contract_id"), ["contract_id"], unique=False)
    contract = sa.table("contract", sa.column("id", sa.String), sa.column("county_codes", sa.JSON),
                        sa.column("loaded_at", sa.DateTime(timezone=True)))
    conn = op.get_bind()
    rows = [{"contract_id": r.id, "county_code": code, "decision": "before_control", "decided_at": r.loaded_at}
            for r in conn.execute(sa.select(contract.c.id, contract.c.county_codes, contract.c.loaded_at)
                                  .order_by(contract.c.id))
            for code in r.county_codes]
    if rows:
        op.bulk_insert(decision, rows)


def downgrade() -> None:
    with op.batch_alter_table("contract_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_decision_contract_id"))
    op.drop_table("contract_decision")
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_contract_status_known"), type_="check")
        batch_op.drop_column("status")
