"""a password set by an administrator must be changed by its owner: `app_user.password_change_required`

When an administrator gives a user a new password, the administrator knows it; until the user has chosen their own,
the account can do nothing but change it (and log out). Existing accounts start without the requirement.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('app_user', sa.Column('password_change_required', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.drop_column('password_change_required')
