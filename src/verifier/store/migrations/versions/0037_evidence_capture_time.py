"""evidence: the capture time a photo carries (EXIF DateTimeOriginal, with its offset when the camera wrote one)

Read at upload (`checks/photo_exif.py`) and compared with the check's visit day (`domain.photo_times`). Stored as
the camera wrote it, in ISO 8601 ("2026-12-01T09:30:00", or "2026-12-01T09:30:00+08:00" with an offset); "" for a
photo read without finding a time; NULL for files uploaded before (never read) and for PDF scans.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("captured_at", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("captured_at")
