"""course attendance settings: threshold, same-IP refusal, code step

Revision ID: 59374c8f0f32
Revises: eea2a683a3af
Create Date: 2026-11-27 14:54:21.697091

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '59374c8f0f32'
down_revision = 'eea2a683a3af'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not a batch copy: on SQLite a batch copy drops `courses`, and with
    # foreign keys on that would cascade to its trainers.
    op.add_column('courses', sa.Column('attendance_threshold', sa.Integer(), server_default='75', nullable=False))
    op.add_column('courses', sa.Column('refuse_same_ip', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('courses', sa.Column('code_step_seconds', sa.Integer(), server_default='15', nullable=False))


def downgrade():
    for column in ('code_step_seconds', 'refuse_same_ip', 'attendance_threshold'):
        op.drop_column('courses', column)  # plain DROP COLUMN (SQLite 3.35+)
