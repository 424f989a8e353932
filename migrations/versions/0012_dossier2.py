"""dossier: the appraisal request letter (period setting, kind of signed PDF)

Revision ID: 0005_dossier2
Revises: 0005_accounts (chained after main's head at rebase; was 0004_accounts_base)
Create Date: 2026-12-02 02:05:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005_dossier2"
down_revision = "0005_accounts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("periods", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "request_letter_required",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    # Nothing points at signed_reports: a batch copy (SQLite) is safe here.
    with op.batch_alter_table("signed_reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sa.String(length=20), nullable=False, server_default="report"
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_signed_reports_kind"), "kind IN ('report', 'request_letter')"
        )


def downgrade():
    with op.batch_alter_table("signed_reports", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_signed_reports_kind"), type_="check")
        batch_op.drop_column("kind")
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of "periods" would trip the
    # foreign keys of the rows that point at it.
    op.drop_column("periods", "request_letter_required")
