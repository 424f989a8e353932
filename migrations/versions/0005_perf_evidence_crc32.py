"""Evidence CRC-32, computed as the upload streams in (stored ZIP members).

Revision ID: 0003_perf
Revises: 0002_plan
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_perf"
down_revision = "0002_plan"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("crc32", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("crc32")
