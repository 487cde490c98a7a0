"""telegram callback payloads (long button payloads behind short callback keys)

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26 11:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('telegram_callback_payloads',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_telegram_callback_payloads'))
    )


def downgrade() -> None:
    op.drop_table('telegram_callback_payloads')
