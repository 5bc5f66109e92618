"""country of each message: a country's feed from one index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Reviewed. `messages.country` copies the number's country at ingest (a number never changes
country), so `/api/v1/messages?country=XX` walks `ix_messages_country_id` instead of every
message (a country with one number took 1.8 s at 1 000 000 messages). Messages stored
before this revision get their number's country here; unprovisioned ones stay NULL.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
    op.execute(
        "UPDATE messages SET country = "
        "(SELECT numbers.country FROM numbers WHERE numbers.id = messages.number_id) "
        "WHERE number_id IS NOT NULL"
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_country_id", ["country", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_country_id")
        batch_op.drop_column("country")
