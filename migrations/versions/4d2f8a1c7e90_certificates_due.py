"""certificates_due: certificates earned and not issued yet (issued after commit)

Revision ID: 4d2f8a1c7e90
Revises: e7a3c1f05b42
Create Date: 2026-12-03 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d2f8a1c7e90'
down_revision = 'e7a3c1f05b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificates_due',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_certificates_due_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', name=op.f('pk_certificates_due'))
    )


def downgrade():
    op.drop_table('certificates_due')
