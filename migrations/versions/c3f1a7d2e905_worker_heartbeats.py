"""worker heartbeats: when the mail worker last finished a round (for /healthz)

Revision ID: c3f1a7d2e905
Revises: d41c7a0e5b13
Create Date: 2026-12-03 13:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f1a7d2e905'
down_revision = 'd41c7a0e5b13'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'worker_heartbeats',
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('beat_at', sa.DateTime(), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('host'),
    )


def downgrade():
    op.drop_table('worker_heartbeats')
