"""The Prefect flow run that ran a cycle, on its run row (issue 14 part 5).

`run.prefect_flow_run_id` holds the flow run's UUID when the cycle ran under Prefect (a
deployment, `serve`, or `claimwatch run` with a Prefect server), NULL for a plain one-off run,
so a run seen in the Prefect UI can be found in claimwatch's database and back. Nullable and
empty for existing rows: older runs had no flow run recorded.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 22:38:32.351814
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prefect_flow_run_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_run_prefect_flow_run_id'), ['prefect_flow_run_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_prefect_flow_run_id'))
        batch_op.drop_column('prefect_flow_run_id')
