"""registrations: search_text, a folded name, e-mail and phone for the registrant search

Revision ID: eea2a683a3af
Revises: 33fe61596ecd
Create Date: 2026-11-27 13:58:02.811116

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'eea2a683a3af'
down_revision = '33fe61596ecd'
branch_labels = None
depends_on = None

registrations = sa.table(
    'registrations',
    sa.column('id', sa.Integer),
    sa.column('full_name', sa.String),
    sa.column('email', sa.String),
    sa.column('phone', sa.String),
    sa.column('search_text', sa.Text),
)


def _search_text(full_name, email, phone):
    # A frozen copy of events.models.registration_search_text: a migration must not change
    # with the app.
    phone_digits = "".join(c for c in phone or "" if c.isdigit())
    text = " ".join(filter(None, [full_name, email, phone, phone_digits]))
    return " ".join(text.casefold().replace("ё", "е").split())


def upgrade():
    # A plain ADD COLUMN, not a batch copy of the table: on SQLite a batch copy drops
    # `registrations`, and with foreign keys on that would cascade to answers and attendance.
    op.add_column(
        'registrations', sa.Column('search_text', sa.Text(), server_default='', nullable=False)
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            registrations.c.id,
            registrations.c.full_name,
            registrations.c.email,
            registrations.c.phone,
        )
    ).all()
    for registration_id, full_name, email, phone in rows:
        connection.execute(
            registrations.update()
            .where(registrations.c.id == registration_id)
            .values(search_text=_search_text(full_name, email, phone))
        )


def downgrade():
    op.drop_column('registrations', 'search_text')  # plain DROP COLUMN (SQLite 3.35+)
