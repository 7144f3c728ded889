"""The alert outbox (storage.models.Alert), as the alerts work defined it on 2026-11-25.

Generated with `alembic revision --autogenerate` (storage/migrations/README.md): if the Alert
model changes before this is released, regenerate this file rather than adding a 0003.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 23:48:41.354227
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=80), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('development_id', sa.Integer(), nullable=True),
    sa.Column('match_id', sa.Integer(), nullable=True),
    sa.Column('claim_id', sa.String(length=80), nullable=True),
    sa.Column('relation', sa.String(length=16), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['development_id'], ['development.id'], ),
    sa.ForeignKeyConstraint(['digest_id'], ['alert.id'], ),
    sa.ForeignKeyConstraint(['match_id'], ['match.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('subject', 'channel')
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_development_id'), ['development_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_digest_id'), ['digest_id'], unique=False)
        batch_op.create_index('ix_alert_due', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_due')
        batch_op.drop_index(batch_op.f('ix_alert_digest_id'))
        batch_op.drop_index(batch_op.f('ix_alert_development_id'))

    op.drop_table('alert')
