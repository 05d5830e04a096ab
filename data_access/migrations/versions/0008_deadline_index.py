"""The deadline index: closed cases not due yet are left out of the closure and on-time rates.

Why: 应办结 counts only the cases whose deadline has passed (issue 13), so every view also counts the closed
cases due after the as-of time; this index reads just those (the last weeks' cases) and covers the grouping
and filter columns.

Revision ID: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ["deadline", "grid_code", "day", "category", "source", "status", "on_time", "closed_at"]
CLOSED = sa.text("closed_at IS NOT NULL")


def upgrade():
    # Partial: the overdue list (open cases by deadline) must not be tempted onto it (see schema.py).
    op.create_index("ix_cases_deadline", "cases", COLUMNS, sqlite_where=CLOSED, postgresql_where=CLOSED)


def downgrade():
    op.drop_index("ix_cases_deadline", table_name="cases")
