"""report stamp: a row that database triggers change whenever a table the dashboard reads
is written, so each worker process can keep the dashboard's figures until it changes

Revision ID: 768f0e48c040
Revises: f0005a1a6da9
Create Date: 2026-12-08 16:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '768f0e48c040'
down_revision = 'f0005a1a6da9'
branch_labels = None
depends_on = None

# reports.models.STAMPED_TABLES as of this revision (a later one adds or drops triggers)
TABLES = (
    "attendance", "certificates", "course_completions", "courses", "events",
    "feedback_answers", "feedback_forms", "feedback_invitations", "feedback_questions",
    "feedback_responses", "organisations", "programmes", "project_audits",
    "project_level_decisions", "project_members", "project_partners", "projects",
    "registrations", "sessions", "users",
)
SQLITE_EVENTS = ("insert", "update", "delete")

# PostgreSQL: a deferred trigger runs at COMMIT, so the stamp row is locked only while the
# transaction commits (writers never wait on each other for the rest of their work), and
# once per transaction (a transaction-local setting remembers it was done).
PG_FUNCTION = """
CREATE FUNCTION report_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('tropa.report_stamp_changed', true) IS DISTINCT FROM 'yes' THEN
        PERFORM set_config('tropa.report_stamp_changed', 'yes', true);
        INSERT INTO report_stamp (id, stamp)
        VALUES (1, floor(random() * 9007199254740991)::bigint)
        ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp;
    END IF;
    RETURN NULL;
END $$
"""
# SQLite: writers take turns (BEGIN IMMEDIATE), so a trigger per row costs no waiting.
SQLITE_BODY = (
    "INSERT INTO report_stamp (id, stamp) VALUES (1, random()) "
    "ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp"
)


def upgrade():
    op.create_table('report_stamp',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stamp', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_report_stamp_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_stamp'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER report_stamp AFTER INSERT OR UPDATE OR DELETE"
                f" ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
                f" EXECUTE FUNCTION report_stamp_change()"
            )
    else:
        for table in TABLES:
            for event in SQLITE_EVENTS:
                op.execute(
                    f"CREATE TRIGGER report_stamp_{table}_{event} AFTER {event.upper()}"
                    f" ON {table} BEGIN {SQLITE_BODY}; END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER report_stamp ON {table}")
        op.execute("DROP FUNCTION report_stamp_change()")
    else:
        for table in TABLES:
            for event in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER report_stamp_{table}_{event}")
    op.drop_table('report_stamp')
