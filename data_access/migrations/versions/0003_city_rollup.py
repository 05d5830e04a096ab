"""City rows in every rollup (sums of the county rows), and the case id in the open-case index.

Why: a city view's own series and breakdowns (monthly trend, category × source, days, resolution levels)
read one row per month or day instead of one per county; the overdue list picks its first cases from the
open-case index alone and reads only those rows from the table.

Revision ID: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("case_rollup", "case_rollup_day", "case_rollup_all", "case_rollup_res")
OLD_OPEN = ["grid_code", "day", "deadline", "category", "source", "status"]
# Written out, not imported from schema.py: a migration must keep meaning what it meant when it was written.
NEW_OPEN = [*OLD_OPEN, "id", "closed_at"]


def _open_index(columns):
    op.drop_index("ix_cases_open", table_name="cases")
    op.create_index("ix_cases_open", "cases", columns, sqlite_where=sa.text("closed_at IS NULL"),
                    postgresql_where=sa.text("closed_at IS NULL"))


def upgrade():
    from data_access.rollup import lift_to_city
    conn = op.get_bind()
    for table in TABLES:  # a database built before this revision: lift its county rows
        conn.execute(sa.text(f"DELETE FROM {table} WHERE level = 'city'"))
        lift_to_city(conn, table)
    _open_index(NEW_OPEN)


def downgrade():
    conn = op.get_bind()
    for table in TABLES:
        conn.execute(sa.text(f"DELETE FROM {table} WHERE level = 'city'"))
    _open_index(OLD_OPEN)
