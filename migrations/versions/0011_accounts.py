"""accounts: user sessions (listed, ended one by one) and leaf "Trao đổi" messages

Revision ID: 0005_accounts
Revises: 0005_api
Create Date: 2026-12-02 02:10:00

"""

from alembic import op
import sqlalchemy as sa

from webapp.models import UTCDateTime


# revision identifiers, used by Alembic.
revision = "0005_accounts"
down_revision = "0005_api"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "leaf_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("criterion_code", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_leaf_messages_assessment_id_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_leaf_messages_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaf_messages")),
    )
    with op.batch_alter_table("leaf_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leaf_messages_assessment_code",
            ["assessment_id", "criterion_code"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("leaf_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_leaf_messages_assessment_code")
    op.drop_table("leaf_messages")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
