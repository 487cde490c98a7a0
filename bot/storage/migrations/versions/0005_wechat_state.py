"""wechat channel state (nonces, access token, offered options, answer decisions)

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-26 11:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('wechat_state',
    sa.Column('key', sa.String(length=191), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_wechat_state'))
    )
    with op.batch_alter_table('wechat_state', schema=None) as batch_op:
        batch_op.create_index('ix_wechat_state_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wechat_state', schema=None) as batch_op:
        batch_op.drop_index('ix_wechat_state_expires_at')
    op.drop_table('wechat_state')
