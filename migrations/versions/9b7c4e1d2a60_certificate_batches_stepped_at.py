"""certificate batches: stepped_at (quiet batches are finished by the mail worker)

Revision ID: 9b7c4e1d2a60
Revises: 5e1d0c2a9f31
Create Date: 2026-11-27 18:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b7c4e1d2a60'
down_revision = '5e1d0c2a9f31'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('certificate_batches', sa.Column('stepped_at', sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column('certificate_batches', 'stepped_at')
