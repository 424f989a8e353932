"""Early close of a unit's self-assessment; soft delete of evidence (issue 17)

Revision ID: 0003_answers
Revises: 0003_perf
"""

import sqlalchemy as sa
from alembic import op

import webapp.models

revision = "0003_answers"
down_revision = "0003_perf"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(
            sa.Column(
                "closed_early_at", webapp.models.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(
            sa.Column(
                "deleted_at", webapp.models.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(sa.Column("deleted_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_evidence_deleted_by_id_users"),
            "users",
            ["deleted_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("evidence") as batch:
        batch.drop_constraint(
            batch.f("fk_evidence_deleted_by_id_users"), type_="foreignkey"
        )
        batch.drop_column("deleted_by_id")
        batch.drop_column("deleted_at")
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("closed_early_at")
