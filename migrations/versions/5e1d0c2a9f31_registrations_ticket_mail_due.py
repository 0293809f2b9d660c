"""registrations: ticket mail due (imported people get their ticket from the mail worker)

Revision ID: 5e1d0c2a9f31
Revises: 1c4a96657f18
Create Date: 2026-11-27 17:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1d0c2a9f31'
down_revision = '1c4a96657f18'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: batch mode would recreate registrations on SQLite and cascade the
    # delete into attendance and answers.
    op.add_column(
        'registrations',
        sa.Column('ticket_mail_due', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        'ix_registrations_ticket_mail_due',
        'registrations',
        ['id'],
        unique=False,
        postgresql_where=sa.text('ticket_mail_due'),
        sqlite_where=sa.text('ticket_mail_due'),
    )


def downgrade():
    op.drop_index(
        'ix_registrations_ticket_mail_due',
        table_name='registrations',
        postgresql_where=sa.text('ticket_mail_due'),
        sqlite_where=sa.text('ticket_mail_due'),
    )
    op.drop_column('registrations', 'ticket_mail_due')
