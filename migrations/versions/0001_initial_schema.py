"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: names follow the naming convention in webapp/extensions.py.
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_api_keys_name'))
    )
    op.create_table('message_parts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('provider_id', sa.String(length=255), nullable=False),
    sa.Column('group_key', sa.String(length=255), nullable=False),
    sa.Column('part_no', sa.Integer(), nullable=False),
    sa.Column('part_total', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('sender_raw', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_parts')),
    sa.UniqueConstraint('provider', 'group_key', 'part_no', name=op.f('uq_message_parts_provider_group_key_part_no')),
    sa.UniqueConstraint('provider', 'provider_id', name=op.f('uq_message_parts_provider_provider_id'))
    )
    with op.batch_alter_table('message_parts', schema=None) as batch_op:
        batch_op.create_index('ix_message_parts_received_at', ['received_at'], unique=False)

    op.create_table('numbers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('e164', sa.String(length=16), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_message_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("status IN ('active', 'retired')", name=op.f('ck_numbers_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_numbers')),
    sa.UniqueConstraint('e164', name=op.f('uq_numbers_e164'))
    )
    with op.batch_alter_table('numbers', schema=None) as batch_op:
        batch_op.create_index('ix_numbers_status_country', ['status', 'country'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('provider_id', sa.String(length=255), nullable=False),
    sa.Column('number_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recipient', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('sender_raw', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['number_id'], ['numbers.id'], name=op.f('fk_messages_number_id_numbers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('provider', 'provider_id', name=op.f('uq_messages_provider_provider_id'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_number_id_id', ['number_id', 'id'], unique=False)
        batch_op.create_index('ix_messages_number_id_received_at', ['number_id', 'received_at'], unique=False)
        batch_op.create_index('ix_messages_received_at', ['received_at'], unique=False)



def downgrade():
    # Reviewed: names follow the naming convention in webapp/extensions.py.
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_received_at')
        batch_op.drop_index('ix_messages_number_id_received_at')
        batch_op.drop_index('ix_messages_number_id_id')

    op.drop_table('messages')
    with op.batch_alter_table('numbers', schema=None) as batch_op:
        batch_op.drop_index('ix_numbers_status_country')

    op.drop_table('numbers')
    with op.batch_alter_table('message_parts', schema=None) as batch_op:
        batch_op.drop_index('ix_message_parts_received_at')

    op.drop_table('message_parts')
    op.drop_table('api_keys')
