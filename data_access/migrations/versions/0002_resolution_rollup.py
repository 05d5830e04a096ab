"""case_rollup_res: closed cases per resolution level, by month and day (the 小事不出村 split).

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_rollup_res",
        sa.Column("level", sa.String(10), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("resolution_level", sa.String(8), primary_key=True),
        sa.Column("closed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("on_time", sa.Integer, nullable=False, server_default="0"),
        sa.Column("close_hours", sa.Float, nullable=False, server_default="0"),
    )
    # A database built before this revision: fill the new rollup from its cases.
    from data_access.rollup import refresh_resolution
    refresh_resolution(op.get_bind())


def downgrade():
    op.drop_table("case_rollup_res")
