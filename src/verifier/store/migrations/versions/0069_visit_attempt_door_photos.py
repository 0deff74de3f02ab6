"""visit_attempt.evidence: the photos taken at the door on the day of a visit that produced no check
(checks/attempts.py `door_problems`), SHA-256 of the case's evidence, NULL for the attempts recorded before they were
asked for. Nothing is filled in: an earlier attempt named no photo.

The downgrade is refused while an attempt names its photos: dropping them would leave a visit without what proved it.

Revision ID: 0069
Revises: 0068
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0069"
down_revision = "0068"
branch_labels = None
depends_on = None
ATTEMPT = "visit_attempt"


def upgrade() -> None:
    with op.batch_alter_table(ATTEMPT, schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text(f"SELECT count(*) FROM {ATTEMPT} WHERE evidence IS NOT NULL")).scalar():
        raise RuntimeError("已有未能核查的走访附有门前照片（降级会丢失照片与走访的对应）：不能降级")
    with op.batch_alter_table(ATTEMPT, schema=None) as batch_op:
        batch_op.drop_column("evidence")
