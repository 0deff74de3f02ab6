"""payee account blind index; account_clearance: one account paying several households (一账多户)

`home_check.payee_account_index`, `payee_correction.account_index` and `payment_item.payee_account_index` hold the
Vault's keyed blind index (HMAC-SHA-256 under the index key) of the payee's account number, digits only, beside the
sealed account, so that one account named for several households is found without decrypting anything. Rows
already there are filled by opening their sealed account with the deployment's Vault, which `verifier init` hands
the migration; a payment item takes the index of the check or payee change it pays. Without a Vault (a bare
schema upgrade in tests) or for a value that does not open, the index stays NULL and that row is not compared.

`account_clearance` keeps a county reviewer's clearance of one account for the households it pays, with a note.

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import context, op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None

KIND = "payee_account"  # the blind index's kind, as payments/one_account.py and the audit entries use it


def _index(vault, number: str) -> str:  # type: ignore[no-untyped-def]
    return vault.blind_index("".join(ch for ch in number if ch.isdigit()), KIND)


def _backfill(vault, table: str, sealed: str, index: str, column: str) -> None:  # type: ignore[no-untyped-def]
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, {sealed} FROM {table} WHERE {sealed} IS NOT NULL")).all()
    update = sa.text(f"UPDATE {table} SET {index} = :ix WHERE id = :id")
    values = []
    for row_id, blob in rows:
        try:
            values.append({"id": row_id, "ix": _index(vault, vault.open(bytes(blob), column))})
        except Exception:  # noqa: BLE001  (a value sealed under other keys or damaged: left unindexed)
            continue
    for start in range(0, len(values), 1000):
        conn.execute(update, values[start:start + 1000])


def upgrade() -> None:
    with op.batch_alter_table("home_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payee_account_index", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_home_check_payee_account_index"), ["payee_account_index"], unique=False)
    with op.batch_alter_table("payee_correction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_index", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_payee_correction_account_index"), ["account_index"], unique=False)
    with op.batch_alter_table("payment_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payee_account_index", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_payment_item_payee_account_index"), ["payee_account_index"],
                              unique=False)
    op.create_table(
        "account_clearance",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_index", sa.String(length=64), nullable=False),
        sa.Column("account_masked", sa.String(length=40), nullable=False),
        sa.Column("households", sa.JSON(), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cleared_by", sa.String(length=40), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_clearance")),
    )
    op.create_index(op.f("ix_account_clearance_account_index"), "account_clearance", ["account_index"], unique=False)
    vault = context.config.attributes.get("vault")
    if vault is None:
        return
    _backfill(vault, "home_check", "payee_account_enc", "payee_account_index", "check.payee_account")
    _backfill(vault, "payee_correction", "account_number_enc", "account_index", "payee_correction.account_number")
    op.execute("UPDATE payment_item SET payee_account_index = (SELECT c.payee_account_index FROM home_check c "
               "WHERE c.id = payment_item.payee_check_id) WHERE payee_check_id IS NOT NULL")
    op.execute("UPDATE payment_item SET payee_account_index = (SELECT p.account_index FROM payee_correction p "
               "WHERE p.id = payment_item.payee_correction_id) WHERE payee_correction_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index(op.f("ix_account_clearance_account_index"), table_name="account_clearance")
    op.drop_table("account_clearance")
    with op.batch_alter_table("payment_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_item_payee_account_index"))
        batch_op.drop_column("payee_account_index")
    with op.batch_alter_table("payee_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payee_correction_account_index"))
        batch_op.drop_column("account_index")
    with op.batch_alter_table("home_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_home_check_payee_account_index"))
        batch_op.drop_column("payee_account_index")
