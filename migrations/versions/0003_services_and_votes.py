"""services and votes: the detected service of each message; visitors' votes per number

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Messages stored before this revision keep `service` NULL (no backfill): they show no chip
and count on no service page; they age out with MESSAGE_RETENTION_DAYS.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_messages_service_received_at", ["service", "received_at", "number_id"],
            unique=False,
        )
    op.create_table(
        "votes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number_id", BigId, nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("voter_hash", sa.String(length=64), nullable=False),
        sa.Column("worked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["number_id"], ["numbers.id"], name=op.f("fk_votes_number_id_numbers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
        sa.UniqueConstraint(
            "number_id", "service", "voter_hash", name=op.f("uq_votes_number_id_service_voter_hash")
        ),
    )
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_votes_service_updated_at", ["service", "updated_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index("ix_votes_service_updated_at")
    op.drop_table("votes")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_service_received_at")
        batch_op.drop_column("service")
