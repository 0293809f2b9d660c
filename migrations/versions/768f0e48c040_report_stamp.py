"""report stamp: triggers bump the "reports" cache stamp whenever a table the dashboard
reads is written, so each worker process can keep the dashboard's figures until it changes

Revision ID: 768f0e48c040
Revises: a8c41e7d2b90
Create Date: 2026-12-08 16:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '768f0e48c040'
down_revision = 'a8c41e7d2b90'
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
        INSERT INTO cache_stamps (name, version) VALUES ('reports', 1)
        ON CONFLICT (name) DO UPDATE SET version = cache_stamps.version + 1;
    END IF;
    RETURN NULL;
END $$
"""
# SQLite: writers take turns (BEGIN IMMEDIATE), so a trigger per row costs no waiting.
SQLITE_BODY = (
    "INSERT INTO cache_stamps (name, version) VALUES ('reports', 1) "
    "ON CONFLICT (name) DO UPDATE SET version = cache_stamps.version + 1"
)


def upgrade():
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
