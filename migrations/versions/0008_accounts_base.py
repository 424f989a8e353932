"""accounts: user email, phone, email notifications, must change password

Revision ID: 0004_accounts_base
Revises: 0002_dossier
Create Date: 2026-12-02 01:55:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004_accounts_base"
down_revision = "0002_dossier"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "email_notifications",
                sa.Boolean(),
                nullable=False,
                server_default=sa.true(),
            )
        )
        batch_op.add_column(
            sa.Column(
                "must_change_password",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of "users" would trip the
    # foreign keys of the rows that point at it.
    for column in ("must_change_password", "email_notifications", "phone", "email"):
        op.drop_column("users", column)
