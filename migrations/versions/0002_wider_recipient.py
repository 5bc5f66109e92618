"""wider recipient: room for a gateway's connector or device id when no number is given

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("messages", "message_parts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "recipient", existing_type=sa.String(length=32), type_=sa.String(length=64),
                existing_nullable=False,
            )


def downgrade():
    for table in ("messages", "message_parts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "recipient", existing_type=sa.String(length=64), type_=sa.String(length=32),
                existing_nullable=False,
            )
