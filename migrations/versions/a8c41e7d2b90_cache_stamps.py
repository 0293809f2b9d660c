"""cache stamps: a version per cached view of the data, bumped by every change it shows

Revision ID: a8c41e7d2b90
Revises: f0005a1a6da9
Create Date: 2026-12-10 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8c41e7d2b90'
down_revision = 'f0005a1a6da9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cache_stamps',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_stamps')),
    )


def downgrade():
    op.drop_table('cache_stamps')
