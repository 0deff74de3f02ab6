"""notice.posting_without_dated_photo: whether a posting was confirmed without a photo that counted, kept as decided

A notice's page and the API said "confirmed without a dated photo" by working it out again from the photos on each
read. Which photos count has since changed (the server's receipt time now counts too, not only the camera's day),
so working it out again would re-label confirmations given under the earlier rule. The confirmation now keeps what
was decided. Notices confirmed before take it from their `notice.posting_confirm` audit entry, which has always
carried `"without_dated_photo": true` when it was so.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-05
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posting_without_dated_photo", sa.Boolean(), nullable=False,
                                      server_default=sa.text("false")))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT subject, entry FROM audit_entry WHERE action = 'notice.posting_confirm'"))
    undated = [subject for subject, entry in rows
               if json.loads(bytes(entry).decode("utf-8")).get("payload", {}).get("without_dated_photo") is True]
    for subject in undated:
        bind.execute(sa.text("UPDATE notice SET posting_without_dated_photo = true WHERE id = :id"), {"id": subject})


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("posting_without_dated_photo")
