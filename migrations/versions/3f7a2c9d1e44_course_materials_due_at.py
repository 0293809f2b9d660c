"""course materials: due_at (a task's deadline, shown on My learning)

Revision ID: 3f7a2c9d1e44
Revises: 7d3e9a41c5b2
Create Date: 2026-12-03 14:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f7a2c9d1e44'
down_revision = '7d3e9a41c5b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course_materials') as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('course_materials') as batch_op:
        batch_op.drop_column('due_at')
