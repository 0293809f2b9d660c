"""users: search_text, a case- and ё-folded name and e-mail for the admin's search

Revision ID: 33fe61596ecd
Revises: 525c09320ebf
Create Date: 2026-11-27 15:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '33fe61596ecd'
down_revision = '525c09320ebf'
branch_labels = None
depends_on = None

users = sa.table(
    'users',
    sa.column('id', sa.Integer),
    sa.column('full_name', sa.String),
    sa.column('email', sa.String),
    sa.column('search_text', sa.Text),
)


def _search_key(text):
    # A frozen copy of webapp.models.search_key: a migration must not change with the app.
    return " ".join(text.casefold().replace("ё", "е").split())


def upgrade():
    # A plain ADD COLUMN, not a batch copy of the table: on SQLite a batch copy drops
    # `users`, and with foreign keys on that would cascade to their roles.
    op.add_column('users', sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.full_name, users.c.email)).all()
    for user_id, full_name, email in rows:
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(search_text=_search_key(f"{full_name} {email}"))
        )


def downgrade():
    op.drop_column('users', 'search_text')  # plain DROP COLUMN (SQLite 3.35+), for the same reason
