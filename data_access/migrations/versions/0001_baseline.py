"""Baseline: regions, grids, cases, case_rollup, case_rollup_day, case_rollup_all, meta.

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DURATIONS = [f"d{i}" for i in range(13)]


def upgrade():
    op.create_table(
        "regions",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("parent_code", sa.String(12), index=True),
        sa.Column("population", sa.Integer, nullable=False, server_default="0"),
        sa.Column("geometry", sa.LargeBinary),
        sa.Column("label_lon", sa.Float),
        sa.Column("label_lat", sa.Float),
        sa.Column("duty_unit", sa.String(64)),
        sa.Column("duty_person", sa.String(32)),
        sa.Column("duty_phone", sa.String(32)),
    )
    op.create_table(
        "grids",
        sa.Column("code", sa.String(15), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False, index=True),
        sa.Column("population", sa.Integer, nullable=False, server_default="0"),
        sa.Column("geometry", sa.LargeBinary),
        sa.Column("label_lon", sa.Float),
        sa.Column("label_lat", sa.Float),
        sa.Column("worker_name", sa.String(32)),
        sa.Column("worker_phone", sa.String(32)),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("grid_code", sa.String(15), nullable=False),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("reported_at", sa.DateTime, nullable=False),
        sa.Column("dispatched_at", sa.DateTime),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("deadline", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("resolution_level", sa.String(2)),
        sa.Column("satisfaction", sa.SmallInteger),
        sa.Column("is_major", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("handling_unit", sa.String(64)),
        sa.Column("description", sa.Text),
        sa.Column("citizen_name", sa.String(32)),
        sa.Column("citizen_phone", sa.String(32)),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("close_hours", sa.Float),
        sa.Column("on_time", sa.SmallInteger),
    )
    agg = ["category", "source", "status", "close_hours", "on_time", "resolution_level", "satisfaction"]
    op.create_index("ix_cases_grid_day", "cases", ["grid_code", "day", *agg])
    op.create_index("ix_cases_day_grid", "cases", ["day", "grid_code", *agg])
    op.create_index("ix_cases_reported", "cases", ["reported_at"])
    op.create_index(
        "ix_cases_open", "cases", ["grid_code", "day", "deadline", "category", "source", "status"],
        sqlite_where=sa.text("closed_at IS NULL"), postgresql_where=sa.text("closed_at IS NULL"),
    )
    measures = ["received", "closed", "on_time", "local_resolved", "close_hours", "sat_n", "sat_ok"] + DURATIONS
    op.create_table(
        "case_rollup",
        sa.Column("level", sa.String(10), primary_key=True),
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(16), primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        *[sa.Column(m, sa.Float if m == "close_hours" else sa.Integer, nullable=False, server_default="0")
          for m in measures],
    )
    op.create_table(
        "case_rollup_day",
        sa.Column("level", sa.String(10), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("category", sa.String(16), primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        *[sa.Column(m, sa.Float if m == "close_hours" else sa.Integer, nullable=False, server_default="0")
          for m in measures],
    )
    op.create_table(
        "case_rollup_all",
        sa.Column("level", sa.String(10), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(12), primary_key=True),
        *[sa.Column(m, sa.Float if m == "close_hours" else sa.Integer, nullable=False, server_default="0")
          for m in measures],
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text),
    )


def downgrade():
    for name in ("meta", "case_rollup_all", "case_rollup_day", "case_rollup", "cases", "grids", "regions"):
        op.drop_table(name)
