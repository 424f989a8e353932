"""units.page_revision: the criteria page's cache key (issue #16)

Revision ID: 0006_page_revision
Revises: 0005_dossier2
Create Date: 2026-12-03 08:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006_page_revision"
down_revision = "0005_dossier2"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch copy): units is pointed at by most tables.
    op.add_column(
        "units",
        sa.Column("page_revision", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade():
    # SQLite drops a column in place since 3.35: no batch copy of units either.
    op.drop_column("units", "page_revision")
