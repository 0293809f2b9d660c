"""events: municipality (the events list filters by it)

Revision ID: 7d3e9a41c5b2
Revises: c3f1a7d2e905
Create Date: 2026-12-03 13:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d3e9a41c5b2'
down_revision = 'c3f1a7d2e905'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events') as batch_op:
        batch_op.add_column(sa.Column('municipality', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('events') as batch_op:
        batch_op.drop_column('municipality')
