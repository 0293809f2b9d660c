"""registrations: status mail due, mail locale, ticket re-sent at (mail after commit)

Revision ID: e7a3c1f05b42
Revises: 9b7c4e1d2a60
Create Date: 2026-12-03 13:30:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'e7a3c1f05b42'
down_revision = '9b7c4e1d2a60'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: batch mode would recreate registrations on SQLite and cascade the
    # delete into attendance and answers.
    op.add_column(
        'registrations',
        sa.Column('status_mail_due', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column('registrations', sa.Column('mail_locale', sa.String(length=10), nullable=True))
    op.add_column(
        'registrations',
        sa.Column('ticket_resent_at', sa.DateTime(), nullable=True),
    )
    op.create_index(
        'ix_registrations_status_mail_due',
        'registrations',
        ['id'],
        unique=False,
        postgresql_where=sa.text('status_mail_due'),
        sqlite_where=sa.text('status_mail_due'),
    )


def downgrade():
    op.drop_index(
        'ix_registrations_status_mail_due',
        table_name='registrations',
        postgresql_where=sa.text('status_mail_due'),
        sqlite_where=sa.text('status_mail_due'),
    )
    op.drop_column('registrations', 'ticket_resent_at')
    op.drop_column('registrations', 'mail_locale')
    op.drop_column('registrations', 'status_mail_due')
